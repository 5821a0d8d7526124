using Microsoft.IdentityModel.Tokens;

namespace Identity.Server.Protocol.Clients;

/// <summary>
/// A client's <c>JsonWebKeySet</c> (RFC 7517 §5), checked before it is stored: public RSA (2048 bits or more) or EC
/// (P-256, P-384, P-521) signing keys only. A private member (<c>d</c>, <c>p</c>, <c>q</c>…) means someone pasted the
/// client's private key into our configuration: refused, so that it is noticed and rotated rather than kept.
/// </summary>
internal static class ClientKeySet
{
    private static readonly string[] Curves = [JsonWebKeyECTypes.P256, JsonWebKeyECTypes.P384, JsonWebKeyECTypes.P521];

    /// <summary>The parsed set, or why it is refused.</summary>
    public static (JsonWebKeySet? Set, string? Problem) Parse(string json)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            return (null, "is not a JSON Web Key Set ({\"keys\":[…]}).");
        }
        if (set.Keys.Count == 0) return (null, "has no key.");
        foreach (var key in set.Keys)
        {
            var name = string.IsNullOrEmpty(key.Kid) ? "a key" : $"key '{key.Kid}'";
            if (key.D is not null || key.P is not null || key.Q is not null || key.DP is not null || key.DQ is not null || key.QI is not null
                || key.K is not null || key.Oth.Count > 0)
                return (null, $"{name} has private members: configure the public key only, and replace the exposed one.");
            if (key.Use is not null && key.Use != JsonWebKeyUseNames.Sig) return (null, $"{name} is not a signing key (use '{key.Use}').");
            switch (key.Kty)
            {
                case JsonWebAlgorithmsKeyTypes.RSA when string.IsNullOrEmpty(key.N) || string.IsNullOrEmpty(key.E):
                    return (null, $"{name} lacks 'n' or 'e'.");
                case JsonWebAlgorithmsKeyTypes.RSA when Base64UrlEncoder.DecodeBytes(key.N).Length * 8 < 2048:
                    return (null, $"{name} is an RSA key under 2048 bits.");
                case JsonWebAlgorithmsKeyTypes.RSA:
                    break;
                case JsonWebAlgorithmsKeyTypes.EllipticCurve when !Curves.Contains(key.Crv) || string.IsNullOrEmpty(key.X) || string.IsNullOrEmpty(key.Y):
                    return (null, $"{name} must be an EC key on P-256, P-384 or P-521 with 'x' and 'y'.");
                case JsonWebAlgorithmsKeyTypes.EllipticCurve:
                    break;
                default:
                    return (null, $"{name} has key type '{key.Kty}'; RSA or EC public keys only.");
            }
        }
        return (set, null);
    }
}
