namespace Apps.Stack.Wire;

/// <summary>Why an inbound TCP segment was rejected; the peer (or the path) is at fault.</summary>
public enum TcpParseError
{
    None,
    /// <summary>Shorter than 20 bytes or than its own data offset.</summary>
    Truncated,
    /// <summary>Data offset below 5 words.</summary>
    BadDataOffset,
    /// <summary>An option with an illegal length or a known option of the wrong size.</summary>
    MalformedOption,
    /// <summary>The checksum over the pseudo-header and segment does not verify.</summary>
    BadChecksum,
}
