using System.Security.Cryptography;
using System.Text;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// Client secrets are long machine-generated values (≥ 32 characters, enforced at configuration), so one SHA-256 is
/// already infeasible to reverse; a slow password hash here would only cap client_credentials and introspection
/// throughput. Comparison is constant-time.
/// </summary>
internal static class SecretHasher
{
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool Verify(string presented, byte[]? storedHash) =>
        storedHash is { Length: 32 } && CryptographicOperations.FixedTimeEquals(Hash(presented), storedHash);
}
