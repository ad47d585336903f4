using System.Buffers.Binary;
using System.Text;
using Apps.Conduit.Dns;

namespace Apps.Conduit.Tests;

/// <summary>Builds DNS response bytes by hand, for well-formed and hostile answers alike.</summary>
internal sealed class DnsBytes
{
    private readonly List<byte> _bytes = [];

    /// <summary>A response header for <paramref name="id"/> followed by the question for the <paramref name="type"/>
    /// (SRV unless given) records of <paramref name="name"/>.</summary>
    public static DnsBytes ResponseTo(ushort id, string name, int answers, byte flags2 = 0x80, ushort type = DnsMessage.TypeSrv)
    {
        var response = new DnsBytes();
        response._bytes.AddRange(DnsMessage.BuildQuery(id, name, type));
        response._bytes[2] = 0x81; // QR, RD
        response._bytes[3] = flags2; // RA, RCODE
        response.SetAnswerCount(answers);
        return response;
    }

    /// <summary>Offset of the question's name (the target of the usual 0xC00C pointer).</summary>
    public const int QuestionName = 12;

    public int Length => _bytes.Count;

    public void SetAnswerCount(int count)
    {
        _bytes[6] = (byte)(count >> 8);
        _bytes[7] = (byte)count;
    }

    /// <summary>Name bytes for <paramref name="name"/> ("." for the root), uncompressed.</summary>
    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        if (name != ".")
        {
            foreach (var label in name.Split('.'))
            {
                bytes.Add((byte)label.Length);
                bytes.AddRange(Encoding.ASCII.GetBytes(label));
            }
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public static byte[] Pointer(int offset) => [(byte)(0xC0 | (offset >> 8)), (byte)offset];

    /// <summary>Appends an SRV answer; <paramref name="rdLength"/> overrides the true RDATA length.</summary>
    public DnsBytes Srv(byte[] owner, ushort priority, ushort weight, ushort port, byte[] target, int? rdLength = null, ushort type = SrvMessage.TypeSrv)
    {
        _bytes.AddRange(owner);
        Span<byte> fixedPart = stackalloc byte[16];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, type);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], SrvMessage.ClassIn);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], 3600);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], (ushort)(rdLength ?? 6 + target.Length));
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[10..], priority);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[12..], weight);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[14..], port);
        _bytes.AddRange(fixedPart.ToArray());
        _bytes.AddRange(target);
        return this;
    }

    /// <summary>Appends an SRV answer owned by the question's name.</summary>
    public DnsBytes Srv(ushort priority, ushort weight, ushort port, string target) =>
        Srv(Pointer(QuestionName), priority, weight, port, Name(target));

    /// <summary>Appends an answer of any type with class IN; <paramref name="rdLength"/> overrides the true data length.</summary>
    public DnsBytes Record(byte[] owner, ushort type, byte[] data, int? rdLength = null)
    {
        _bytes.AddRange(owner);
        Span<byte> fixedPart = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, type);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], DnsMessage.ClassIn);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], 300);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[8..], (ushort)(rdLength ?? data.Length));
        _bytes.AddRange(fixedPart.ToArray());
        _bytes.AddRange(data);
        return this;
    }

    public DnsBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}
