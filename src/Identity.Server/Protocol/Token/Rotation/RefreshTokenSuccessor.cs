namespace Identity.Server.Protocol.Token.Rotation;

/// <summary>
/// The token response a refresh token's redemption produced, sealed with a key only the presented refresh token
/// derives (<see cref="SuccessorSeal"/>): a retry inside the reuse leeway gets the very same tokens back, and a reader
/// of the database gets nothing (it holds only a hash of the refresh token).
/// </summary>
public sealed class RefreshTokenSuccessor
{
    /// <summary>The id of the redeemed refresh token's row.</summary>
    public Guid TokenId { get; set; }
    public required byte[] Sealed { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>When the reuse leeway ends; the prune job removes it after that.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
