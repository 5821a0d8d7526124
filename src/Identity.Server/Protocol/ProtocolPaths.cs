namespace Identity.Server.Protocol;

/// <summary>SPEC §2's endpoint paths.</summary>
internal static class ProtocolPaths
{
    public const string Authorization = "/connect/authorize";
    public const string Token = "/connect/token";
    public const string Revocation = "/connect/revoke";
    public const string Introspection = "/connect/introspect";
    public const string UserInfo = "/connect/userinfo";
    public const string EndSession = "/connect/endsession";
    public const string PushedAuthorization = "/connect/par";
    public const string DeviceAuthorization = "/connect/device";
    /// <summary>RFC 8628 §3.3's verification_uri: a page for people (Pages/Connect/Verify).</summary>
    public const string Verification = "/connect/verify";
    public const string Configuration = "/.well-known/openid-configuration";
    public const string JsonWebKeySet = "/.well-known/jwks";
}
