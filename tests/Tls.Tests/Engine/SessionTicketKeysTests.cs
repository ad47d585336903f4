using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>The server's ticket protection (RFC 5077 §4, §5.5) and the state it carries.</summary>
public class SessionTicketKeysTests
{
    private static readonly DateTimeOffset Now = TestPki.Now;

    [Fact]
    public void Sealed_state_opens_with_the_same_keys_only()
    {
        var keys = new SessionTicketKeys(TestRandom.Create());
        var ticket = keys.Seal("state"u8, Now);

        Assert.Equal("state"u8.ToArray(), keys.Open(ticket, Now));
        Assert.Null(new SessionTicketKeys(TestRandom.Create()).Open(ticket, Now));
        Assert.Equal(SessionTicketKeys.Overhead + 5, ticket.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(-1)]
    public void Any_changed_byte_makes_a_ticket_unusable(int index)
    {
        var keys = new SessionTicketKeys(TestRandom.Create());
        var ticket = keys.Seal("state"u8, Now);
        ticket[index < 0 ? ticket.Length + index : index] ^= 0x80;

        Assert.Null(keys.Open(ticket, Now));
    }

    [Fact]
    public void Truncated_and_oversized_tickets_are_refused()
    {
        var keys = new SessionTicketKeys(TestRandom.Create());
        var ticket = keys.Seal("state"u8, Now);

        Assert.Null(keys.Open(ticket.AsSpan(0, SessionTicketKeys.Overhead), Now));
        Assert.Null(keys.Open(ticket.AsSpan(0, ticket.Length - 1), Now));
        Assert.Null(keys.Open(new byte[SessionTicketKeys.MaxTicketLength + 1], Now));
        Assert.Null(keys.Open([], Now));
    }

    [Fact]
    public void Keys_rotate_and_a_retired_key_opens_tickets_for_one_more_lifetime()
    {
        var keys = new SessionTicketKeys(TestRandom.Create(), ticketLifetime: TimeSpan.FromHours(1), rotationInterval: TimeSpan.FromHours(4));
        var old = keys.Seal("old"u8, Now);

        var rotated = Now.AddHours(4);
        var fresh = keys.Seal("new"u8, rotated);
        Assert.NotEqual(old[..SessionTicketKeys.KeyNameLength], fresh[..SessionTicketKeys.KeyNameLength]);
        Assert.Equal(2, keys.LiveKeyCount);
        Assert.Equal("old"u8.ToArray(), keys.Open(old, rotated.AddMinutes(59)));

        Assert.Null(keys.Open(old, rotated.AddHours(1)));
        Assert.Equal(1, keys.LiveKeyCount);
        Assert.Equal("new"u8.ToArray(), keys.Open(fresh, rotated.AddHours(1)));
    }

    [Fact]
    public void Key_material_is_drawn_from_the_given_random()
    {
        var keys = new SessionTicketKeys(TestRandom.Create(out var generator));

        keys.Seal("x"u8, Now);

        Assert.True(generator.Bytes >= 16 + 32 + 12);
    }

    [Fact]
    public void Clock_jumping_back_and_forth_keeps_the_key_list_bounded()
    {
        var keys = new SessionTicketKeys(TestRandom.Create(), rotationInterval: TimeSpan.FromMinutes(1));
        for (var i = 0; i < 100; i++)
        {
            keys.Seal("x"u8, Now.AddMinutes(i % 2 == 0 ? i : -i));
        }

        Assert.InRange(keys.LiveKeyCount, 1, 16);
    }

    [Fact]
    public void Ticket_state_round_trips_and_rejects_truncation_and_trailing_bytes()
    {
        var state = new SessionTicketState(0x0303, 0xC02B, true, Now, new byte[48], "localhost", "h2"u8.ToArray());
        var encoded = state.Encode();

        var decoded = SessionTicketState.TryDecode(encoded)!;
        Assert.Equal(state with { MasterSecret = decoded.MasterSecret, ApplicationProtocol = decoded.ApplicationProtocol }, decoded);
        Assert.Equal("h2"u8.ToArray(), decoded.ApplicationProtocol);
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Null(SessionTicketState.TryDecode(encoded.AsSpan(0, length)));
        }

        Assert.Null(SessionTicketState.TryDecode([.. encoded, 0]));
    }
}
