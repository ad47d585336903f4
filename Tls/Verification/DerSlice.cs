namespace Apps.Tls.Verification;

/// <summary>Locates the signed part of a signed structure (certificate or CRL) in its DER bytes.</summary>
internal static class DerSlice
{
    /// <summary>
    /// The first element inside the outer SEQUENCE: the TBSCertificate or TBSCertList exactly as
    /// received. Only called on bytes already checked to be canonical DER, so lengths are sound.
    /// </summary>
    public static ReadOnlyMemory<byte> FirstElement(byte[] der)
    {
        var outerHeader = HeaderLength(der, 0);
        return der.AsMemory(outerHeader, HeaderLength(der, outerHeader) + ContentLength(der, outerHeader));
    }

    private static int HeaderLength(byte[] der, int at) => der[at + 1] < 0x80 ? 2 : 2 + (der[at + 1] & 0x7F);

    private static int ContentLength(byte[] der, int at)
    {
        if (der[at + 1] < 0x80)
            return der[at + 1];
        var length = 0;
        for (var i = 0; i < (der[at + 1] & 0x7F); i++)
            length = (length << 8) | der[at + 2 + i];
        return length;
    }
}
