namespace Apps.Stack.Wire;

/// <summary>
/// A 32-bit TCP sequence number with modulo-2^32 comparison (RFC 9293 §3.4):
/// <c>a &lt; b</c> means <c>a</c> precedes <c>b</c> within half the sequence space.
/// </summary>
public readonly record struct TcpSeqNumber(uint Value) : IComparable<TcpSeqNumber>
{
    public static TcpSeqNumber operator +(TcpSeqNumber a, int n) => new(unchecked(a.Value + (uint)n));
    public static TcpSeqNumber operator -(TcpSeqNumber a, int n) => new(unchecked(a.Value - (uint)n));

    /// <summary>Signed distance from <paramref name="b"/> to <paramref name="a"/>.</summary>
    public static int operator -(TcpSeqNumber a, TcpSeqNumber b) => unchecked((int)(a.Value - b.Value));

    public static bool operator <(TcpSeqNumber a, TcpSeqNumber b) => a - b < 0;
    public static bool operator >(TcpSeqNumber a, TcpSeqNumber b) => a - b > 0;
    public static bool operator <=(TcpSeqNumber a, TcpSeqNumber b) => a - b <= 0;
    public static bool operator >=(TcpSeqNumber a, TcpSeqNumber b) => a - b >= 0;

    public static TcpSeqNumber Max(TcpSeqNumber a, TcpSeqNumber b) => a > b ? a : b;
    public static TcpSeqNumber Min(TcpSeqNumber a, TcpSeqNumber b) => a < b ? a : b;

    public int CompareTo(TcpSeqNumber other) => (this - other).CompareTo(0);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
