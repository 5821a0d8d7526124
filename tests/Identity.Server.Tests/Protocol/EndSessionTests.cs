using System.Net;
using Identity.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// The end-session endpoint's checks of an id_token_hint (OIDC RP-Initiated Logout §2, §4), with nobody signed in in
/// the calling client (the browser side is in Pages/AuthorizationCodeFlowTests).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EndSessionTests(ServerFixture server)
{
    private const string SignedOut = "https://app.example.test/signed-out";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    [Fact]
    public async Task AHintThisServerIssued_ReturnsToTheClientWithItsState()
    {
        var (client, idToken) = await IdTokenAsync(protocol);

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", idToken));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{SignedOut}?state=bye", response.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("altered signature")]
    [InlineData("altered payload")]
    [InlineData("not a token")]
    public async Task AHintThatDoesNotValidate_IsRefused_AndTheClientIsNotReturnedTo(string damage)
    {
        var (client, idToken) = await IdTokenAsync(protocol);
        var parts = idToken.Split('.');
        var hint = damage switch
        {
            "altered signature" => $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA",
            "altered payload" => $"{parts[0]}.{parts[1][..^4]}AAAA.{parts[2]}",
            _ => "not-a-token",
        };

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", hint));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("id_token_hint", page);
        Assert.Contains("<h1>Sign-out request refused</h1>", page);
    }

    [Fact]
    public async Task AHintIssuedToAnotherClient_IsRefused()
    {
        // §2: with both client_id and id_token_hint, the client must be the one the ID token was issued to.
        var (_, othersIdToken) = await IdTokenAsync(protocol);
        var (client, _) = await IdTokenAsync(protocol);

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", othersIdToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task AnExpiredHint_IsStillAccepted()
    {
        // §2: the OP SHOULD accept an ID token whose exp has passed; logging out is when old ones come back.
        await using var shortLived = server.WithSettings(new Dictionary<string, string?> { ["Identity:Tokens:IdTokenLifetime"] = "00:00:01" });
        var (client, idToken) = await IdTokenAsync(new ProtocolClient(shortLived.HttpsClient()));
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var response = await EndSessionAsync(("client_id", client.ClientId), ("id_token_hint", idToken));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(SignedOut, response.Headers.Location!.ToString());
    }

    private async Task<(TestClient Client, string IdToken)> IdTokenAsync(ProtocolClient through)
    {
        var client = await data.ClientAsync(grants: ["authorization_code", "password"], isPublic: true, redirectUris: ["https://app.example.test/cb"],
            postLogoutRedirectUris: [SignedOut]);
        var tokens = await through.PasswordGrantAsync(client, await data.UserAsync(), scope: "openid");
        Assert.NotNull(tokens.IdToken);
        return (client, tokens.IdToken);
    }

    private Task<HttpResponseMessage> EndSessionAsync(params (string Name, string? Value)[] parameters) =>
        server.CreateClient().GetAsync(QueryHelpers.AddQueryString("/connect/endsession",
            parameters.Append((Name: "post_logout_redirect_uri", Value: SignedOut)).Append((Name: "state", Value: "bye")).ToDictionary(p => p.Name, p => p.Value)));
}
