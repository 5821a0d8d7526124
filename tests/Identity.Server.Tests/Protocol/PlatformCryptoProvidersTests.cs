using System.Security.Cryptography;
using Identity.Server.Protocol.Protection;
using Identity.Server.Tests.Infrastructure;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// The platform's algorithms under the names OpenIddict asks CryptoConfig for (registered so that the lookups stop
/// parsing type names), and that they answer as the platform does.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class PlatformCryptoProvidersTests(ServerFixture server)
{
    [Fact]
    public void WithTheServerBuilt_OpenIddictsNamesFindThePlatformsAlgorithms()
    {
        Assert.NotNull(server.Server);
        Assert.IsType<PlatformRandomNumberGenerator>(CryptoConfig.CreateFromName(PlatformCryptoProviders.RandomNumberGeneratorName));
        Assert.IsType<OneShotSha256>(CryptoConfig.CreateFromName(PlatformCryptoProviders.Sha256Name));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(43)]
    [InlineData(64)]
    [InlineData(5000)]
    public void Sha256_HashesAsThePlatformDoes_InOneCall_InBlocks_AndAgainOnTheSameInstance(int length)
    {
        var data = RandomNumberGenerator.GetBytes(length);
        var expected = SHA256.HashData(data);
        using var sha = new OneShotSha256();

        Assert.Equal(expected, sha.ComputeHash(data));
        Assert.Equal(expected, sha.ComputeHash(data)); // the first hash left nothing behind
        Assert.Equal(expected, sha.ComputeHash(new MemoryStream(data)));

        var third = length / 3;
        sha.TransformBlock(data, 0, third, null, 0);
        sha.TransformBlock(data, third, third, null, 0);
        sha.TransformFinalBlock(data, 2 * third, length - 2 * third);
        Assert.Equal(expected, sha.Hash);

        var destination = new byte[32];
        Assert.True(sha.TryComputeHash(data, destination, out var written));
        Assert.Equal(32, written);
        Assert.Equal(expected, destination);
    }

    [Fact]
    public void RandomNumbers_FillWhatIsAsked_AndOnlyThat()
    {
        using var rng = new PlatformRandomNumberGenerator();
        byte[] first = new byte[32], second = new byte[32];
        rng.GetBytes(first);
        rng.GetBytes(second);
        Assert.NotEqual(first, second);

        var framed = new byte[64];
        rng.GetBytes(framed, 16, 32);
        Assert.All(framed[..16].Concat(framed[48..]), b => Assert.Equal(0, b));
        Assert.NotEqual(new byte[32], framed[16..48]);

        var nonZero = new byte[4096];
        rng.GetNonZeroBytes(nonZero);
        Assert.DoesNotContain((byte)0, nonZero);
    }
}
