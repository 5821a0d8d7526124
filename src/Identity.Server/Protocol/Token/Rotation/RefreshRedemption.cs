namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// A refresh token this request means to redeem: written with the sign-in's token rows and the sealed
/// <see cref="Successor"/> (WriteTokenRows), on the condition that the token is still valid then. Of concurrent uses
/// exactly one meets it; the others write nothing and answer with its successor.
/// </summary>
internal sealed class RefreshRedemption(Guid tokenId, DateTimeOffset at)
{
    internal static readonly string Property = typeof(RefreshRedemption).FullName!;

    public Guid TokenId { get; } = tokenId;
    public DateTimeOffset At { get; } = at;
    /// <summary>Set once the response is complete (<see cref="CaptureRefreshSuccessor"/>).</summary>
    public RefreshTokenSuccessor? Successor { get; set; }
}
