using System.Net;
using System.Text.Json;
using Identity.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Server.Tests.Protocol.Token;

/// <summary>
/// Token exchange (RFC 8693, SPEC §2): a confidential client exchanges one of our access tokens for one with a
/// narrower scope or audience; an actor token puts an <c>act</c> claim in it; the result is a token like any other.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TokenExchangeGrantTests(ServerFixture server)
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:token-exchange";
    public const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    private readonly TestData data = new(server);
    private readonly ProtocolClient protocol = new(server.CreateClient());

    private async Task<(TestClient Service, TestClient App, TestUser User)> PartiesAsync(string[]? serviceGrants = null)
    {
        var service = await data.ClientAsync(grants: serviceGrants ?? [GrantType, "client_credentials"], scopes: ["openid", "profile", TestData.ApiScope],
            allowIntrospection: true);
        var app = await data.ClientAsync(grants: ["password", "refresh_token"]);
        return (service, app, await data.UserAsync());
    }

    private Task<TokenResult> ExchangeAsync(TestClient service, string subjectToken, string? scope = null, string? audience = null,
        string? resource = null, string? actorToken = null, ProtocolClient? via = null) =>
        (via ?? protocol).TokenAsync(service, ProtocolClient.Form(("grant_type", GrantType), ("subject_token", subjectToken),
            ("subject_token_type", AccessTokenType), ("scope", scope), ("audience", audience), ("resource", resource),
            ("actor_token", actorToken), ("actor_token_type", actorToken is null ? null : AccessTokenType)));

    [Fact]
    public async Task Exchange_IssuesAnAccessTokenForTheSubject_NarrowedToTheRequestedAudience()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid profile {TestData.ApiScope} offline_access");

        var exchanged = await ExchangeAsync(service, subject.AccessToken!, scope: $"openid {TestData.ApiScope}", audience: TestData.ApiResource);

        Assert.True(exchanged.Status == HttpStatusCode.OK, exchanged.Json.ToString());
        Assert.Equal(AccessTokenType, exchanged.Field("issued_token_type"));
        Assert.Equal("Bearer", exchanged.Field("token_type"));
        // No longer than the subject token has left: a moment less than its 15 minutes.
        Assert.InRange(exchanged.Json.GetProperty("expires_in").GetInt32(), 890, 900);
        Assert.Equal($"openid {TestData.ApiScope}", exchanged.Scope);
        Assert.Null(exchanged.RefreshToken);
        Assert.Null(exchanged.IdToken);
        Assert.True(exchanged.Response.Headers.CacheControl?.NoStore);
        var token = new JsonWebToken(exchanged.AccessToken);
        Assert.Equal("at+jwt", token.Typ);
        Assert.Equal(user.Id, token.Subject);
        Assert.Equal(service.ClientId, token.GetPayloadValue<string>("client_id"));
        Assert.Equal([TestData.ApiResource], token.Audiences);
        Assert.False(token.TryGetPayloadValue<JsonElement>("act", out _));
        Assert.True((await ResourceServerValidationAsync(exchanged.AccessToken!)).IsValid);
    }

    [Theory]
    [InlineData("urn:ietf:params:oauth:token-type:refresh_token")]
    [InlineData("urn:ietf:params:oauth:token-type:id_token")]
    [InlineData("urn:ietf:params:oauth:token-type:jwt")]
    [InlineData("urn:example:nonsense")]
    public async Task RequestedTokenTypeOtherThanAnAccessToken_IsRefused(string requested)
    {
        // SPEC §2: the exchange issues an access token; RFC 8693 §2.1 lets the client ask for another type.
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid profile {TestData.ApiScope} offline_access");

        var exchanged = await protocol.TokenAsync(service, ProtocolClient.Form(("grant_type", GrantType), ("subject_token", subject.AccessToken),
            ("subject_token_type", AccessTokenType), ("requested_token_type", requested)));

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_request", exchanged.Error);
        Assert.Null(exchanged.AccessToken);
    }

    [Fact]
    public async Task OfflineAccess_IsInvalidScope_ForAServiceNotAllowedIt()
    {
        // RFC 6749 §5.2: a scope beyond what the client may have is invalid_scope. OpenIddict answered invalid_request
        // ("not allowed to use the offline_access scope") for a client without the refresh_token grant.
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid profile {TestData.ApiScope} offline_access");

        var exchanged = await ExchangeAsync(service, subject.AccessToken!, scope: "openid offline_access");

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_scope", exchanged.Error);
    }

    [Fact]
    public async Task ActorToken_PutsAnActClaim_NestingOneTheSubjectHad()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        var actor = await protocol.ClientCredentialsAsync(service, TestData.ApiScope);

        var first = await ExchangeAsync(service, subject.AccessToken!, actorToken: actor.AccessToken);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var act = new JsonWebToken(first.AccessToken).GetPayloadValue<JsonElement>("act");
        Assert.Equal(service.ClientId, act.GetProperty("sub").GetString());
        Assert.Equal(service.ClientId, act.GetProperty("client_id").GetString());
        Assert.Equal(user.Id, new JsonWebToken(first.AccessToken).Subject);

        // A second hop: the new actor outermost, the first inside it (RFC 8693 §4.1).
        var (next, _, _) = await PartiesAsync();
        var nextActor = await protocol.ClientCredentialsAsync(next, TestData.ApiScope);
        var second = await ExchangeAsync(next, first.AccessToken!, actorToken: nextActor.AccessToken);
        var chain = new JsonWebToken(second.AccessToken).GetPayloadValue<JsonElement>("act");
        Assert.Equal(next.ClientId, chain.GetProperty("sub").GetString());
        Assert.Equal(service.ClientId, chain.GetProperty("act").GetProperty("sub").GetString());
    }

    [Fact]
    public async Task ADelegatedToken_ExchangedAgainWithoutAnActor_KeepsItsAct()
    {
        // RFC 8693 §4.1: nested act claims are "a history trail"; dropping it would let a service present "acting for the
        // person" as the person's own delegation to it.
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        var actor = await protocol.ClientCredentialsAsync(service, TestData.ApiScope);
        var delegated = await ExchangeAsync(service, subject.AccessToken!, actorToken: actor.AccessToken);

        var again = await ExchangeAsync(service, delegated.AccessToken!);

        Assert.Equal(HttpStatusCode.OK, again.Status);
        var act = new JsonWebToken(again.AccessToken).GetPayloadValue<JsonElement>("act");
        Assert.Equal(service.ClientId, act.GetProperty("sub").GetString());
        Assert.False(act.TryGetProperty("act", out _));
    }

    [Theory]
    [InlineData("jwt")]
    [InlineData("reference")]
    public async Task Introspection_ShowsTheAct(string format)
    {
        // RFC 8693 §4.1 registers act as an introspection member too: for a reference token it is the only place to read it.
        var service = await data.ClientAsync(grants: [GrantType, "client_credentials"], scopes: ["openid", TestData.ApiScope], allowIntrospection: true,
            format: format);
        var (_, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        var actor = await protocol.ClientCredentialsAsync(service, TestData.ApiScope);
        var exchanged = await ExchangeAsync(service, subject.AccessToken!, actorToken: actor.AccessToken);

        var introspected = await protocol.IntrospectAsync(service, exchanged.AccessToken!);

        Assert.True(introspected.Json.GetProperty("active").GetBoolean());
        Assert.Equal(service.ClientId, introspected.Json.GetProperty("act").GetProperty("sub").GetString());
        Assert.False((await protocol.IntrospectAsync(service, subject.AccessToken!)).Json.TryGetProperty("act", out _));
    }

    [Fact]
    public async Task RepeatedAudienceAndResource_AreAccepted()
    {
        // RFC 8693 §2.1: "Multiple audience parameters MAY be used"; likewise resource (RFC 8707 §2).
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        var exchanged = await protocol.TokenAsync(service, ProtocolClient.Form(("grant_type", GrantType), ("subject_token", subject.AccessToken),
            ("subject_token_type", AccessTokenType), ("audience", TestData.ApiResource), ("audience", TestData.ApiResource),
            ("resource", TestData.ApiResource), ("resource", TestData.ApiResource + "/")));

        Assert.True(exchanged.Status == HttpStatusCode.OK, exchanged.Json.ToString());
        Assert.Equal([TestData.ApiResource], new JsonWebToken(exchanged.AccessToken).Audiences);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("https://api.example.test/#fragment")]
    public async Task AMalformedResource_IsInvalidTarget(string resource)
    {
        // RFC 8707 §2: invalid_target is for a resource "invalid, missing, unknown, or malformed".
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        var exchanged = await ExchangeAsync(service, subject.AccessToken!, resource: resource);

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_target", exchanged.Error);
    }

    [Fact]
    public async Task AnExchangedToken_ExpiresNoLaterThanItsSubject_SoChainsCannotOutliveTheSignIn()
    {
        var (service, app, user) = await PartiesAsync();
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var via = new ProtocolClient(host.HttpsClient());
        var subject = await via.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        var subjectExpires = new JsonWebToken(subject.AccessToken).ValidTo;

        time.Advance(TimeSpan.FromMinutes(10));
        var first = await ExchangeAsync(service, subject.AccessToken!, via: via);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        // Whole seconds, rounded down on the way: a second or two less than the subject has left.
        Assert.InRange(first.Json.GetProperty("expires_in").GetInt32(), 298, 300);
        Assert.InRange(new JsonWebToken(first.AccessToken).ValidTo, subjectExpires.AddSeconds(-1), subjectExpires);

        // Exchanging the result again gains nothing either, and once the subject has expired the chain ends.
        time.Advance(TimeSpan.FromMinutes(4));
        var second = await ExchangeAsync(service, first.AccessToken!, via: via);
        Assert.InRange(second.Json.GetProperty("expires_in").GetInt32(), 57, 60);
        Assert.InRange(new JsonWebToken(second.AccessToken).ValidTo, subjectExpires.AddSeconds(-2), subjectExpires);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("invalid_request", (await ExchangeAsync(service, second.AccessToken!, via: via)).Error);
    }

    [Fact]
    public async Task WiderScopeThanTheSubjectToken_IsInvalidScope()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        var exchanged = await ExchangeAsync(service, subject.AccessToken!, scope: $"openid profile {TestData.ApiScope}");

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_scope", exchanged.Error);
    }

    [Fact]
    public async Task SubjectTokenNotMeantForTheClient_OrSomeoneElsesActorToken_IsRefused()
    {
        var (service, app, user) = await PartiesAsync();
        var bystander = await data.ClientAsync(grants: [GrantType, "client_credentials"], scopes: ["openid", "profile"]);
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        // The bystander serves no API the token is for, and the token was not issued to it.
        Assert.Equal("invalid_request", (await ExchangeAsync(bystander, subject.AccessToken!)).Error);
        // The service may exchange it, but not name as actor a token issued to someone else.
        var othersToken = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        Assert.Equal("invalid_request", (await ExchangeAsync(service, subject.AccessToken!, actorToken: othersToken.AccessToken)).Error);
        Assert.Equal(HttpStatusCode.OK, (await ExchangeAsync(service, subject.AccessToken!)).Status);
    }

    [Fact]
    public async Task AudienceTheSubjectTokenIsNotFor_IsInvalidTarget()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: "openid");

        Assert.Equal("invalid_target", (await ExchangeAsync(service, subject.AccessToken!, audience: TestData.ApiResource)).Error);
        Assert.Equal("invalid_target", (await ExchangeAsync(service, subject.AccessToken!, resource: TestData.ApiResource)).Error);
        Assert.Equal("invalid_target", (await ExchangeAsync(service, subject.AccessToken!, audience: "https://unknown.example.test")).Error);
    }

    [Fact]
    public async Task ResourceNamingTheSubjectsAudience_IsAccepted_WithOrWithoutTrailingSlash()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        var exchanged = await ExchangeAsync(service, subject.AccessToken!, resource: TestData.ApiResource + "/");

        Assert.Equal(HttpStatusCode.OK, exchanged.Status);
        Assert.Equal([TestData.ApiResource], new JsonWebToken(exchanged.AccessToken).Audiences);
    }

    [Fact]
    public async Task RevokedSubjectToken_IsRefused()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        await protocol.RevokeAsync(app, subject.AccessToken!);

        var exchanged = await ExchangeAsync(service, subject.AccessToken!);

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_request", exchanged.Error);
    }

    [Fact]
    public async Task SubjectTokenOfAPersonLockedOutSince_IsRefused()
    {
        // A lockout revokes nothing: the subject token is still valid, and only the person checked again stops it.
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");
        await data.LockOutAsync(user);

        var exchanged = await ExchangeAsync(service, subject.AccessToken!);

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_request", exchanged.Error);
        Assert.Null(exchanged.AccessToken);
    }

    [Fact]
    public async Task ExpiredSubjectToken_IsRefused()
    {
        var (service, app, user) = await PartiesAsync();
        var time = new TestTimeProvider();
        await using var host = server.WithTime(time);
        var via = new ProtocolClient(host.HttpsClient());
        var subject = await via.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}");

        time.Advance(TimeSpan.FromMinutes(16));
        var exchanged = await ExchangeAsync(service, subject.AccessToken!, via: via);

        Assert.Equal("invalid_request", exchanged.Error);
    }

    [Fact]
    public async Task IssuedToken_IsIntrospectableAndRevocable_AndDiesWithTheSubjectsSignIn()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope} offline_access");
        var exchanged = (await ExchangeAsync(service, subject.AccessToken!)).AccessToken!;

        var introspected = await protocol.IntrospectAsync(service, exchanged);
        Assert.True(introspected.Json.GetProperty("active").GetBoolean());
        Assert.Equal(user.Id, introspected.Json.GetProperty("sub").GetString());
        Assert.Equal(service.ClientId, introspected.Json.GetProperty("client_id").GetString());
        Assert.Equal($"openid {TestData.ApiScope}", introspected.Json.GetProperty("scope").GetString());

        var another = (await ExchangeAsync(service, subject.AccessToken!)).AccessToken!;
        Assert.Equal(HttpStatusCode.OK, (await protocol.RevokeAsync(service, exchanged)).Status);
        Assert.False((await protocol.IntrospectAsync(service, exchanged)).Json.GetProperty("active").GetBoolean());
        Assert.True((await protocol.IntrospectAsync(service, another)).Json.GetProperty("active").GetBoolean());

        // Signing out (revoking the refresh token) ends the sign-in, and the tokens exchanged from it.
        await protocol.RevokeAsync(app, subject.RefreshToken!);
        Assert.False((await protocol.IntrospectAsync(service, another)).Json.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task ClientsOwnToken_MayBeExchanged_ForItself()
    {
        var (service, _, _) = await PartiesAsync();
        var own = await protocol.ClientCredentialsAsync(service, TestData.ApiScope);

        var exchanged = await ExchangeAsync(service, own.AccessToken!);

        Assert.Equal(HttpStatusCode.OK, exchanged.Status);
        Assert.Equal(service.ClientId, new JsonWebToken(exchanged.AccessToken).Subject);
    }

    [Fact]
    public async Task ClientNotAllowedTheGrant_IsUnauthorizedClient_AndSoIsAPublicOne()
    {
        var (service, app, user) = await PartiesAsync(serviceGrants: ["client_credentials"]);
        var subject = await protocol.PasswordGrantAsync(app, user, scope: "openid");
        Assert.Equal("unauthorized_client", (await ExchangeAsync(service, subject.AccessToken!)).Error);

        var publicClient = await data.ClientAsync(grants: [GrantType], isPublic: true);
        Assert.Equal("unauthorized_client", (await ExchangeAsync(publicClient, subject.AccessToken!)).Error);
    }

    [Fact]
    public async Task RefreshTokenAsSubject_IsRefused()
    {
        var (service, app, user) = await PartiesAsync();
        var subject = await protocol.PasswordGrantAsync(app, user, scope: "openid offline_access");

        var asRefresh = await protocol.TokenAsync(service, ProtocolClient.Form(("grant_type", GrantType), ("subject_token", subject.RefreshToken),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token")));
        var disguised = await ExchangeAsync(service, subject.RefreshToken!);

        Assert.Equal("invalid_request", asRefresh.Error);
        Assert.Equal("invalid_request", disguised.Error);
    }

    [Theory]
    [InlineData("no subject_token")]
    [InlineData("no subject_token_type")]
    [InlineData("subject_token_type id_token")]
    [InlineData("subject_token_type jwt")]
    [InlineData("actor_token without its type")]
    [InlineData("actor_token_type without a token")]
    [InlineData("actor_token_type id_token")]
    public async Task MalformedExchange_IsInvalidRequest_AndIssuesNothing(string malformation)
    {
        // RFC 8693 §2.1: subject_token and subject_token_type are required and name what the token is; actor_token_type
        // is required with an actor_token and must not be sent without one.
        var (service, app, user) = await PartiesAsync();
        var subject = (await protocol.PasswordGrantAsync(app, user, scope: $"openid {TestData.ApiScope}")).AccessToken!;
        var actor = (await protocol.ClientCredentialsAsync(service, TestData.ApiScope)).AccessToken!;
        var parameters = new Dictionary<string, string?>
        {
            ["grant_type"] = GrantType, ["subject_token"] = subject, ["subject_token_type"] = AccessTokenType,
        };
        switch (malformation)
        {
            case "no subject_token": parameters.Remove("subject_token"); break;
            case "no subject_token_type": parameters.Remove("subject_token_type"); break;
            case "subject_token_type id_token": parameters["subject_token_type"] = "urn:ietf:params:oauth:token-type:id_token"; break;
            case "subject_token_type jwt": parameters["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt"; break;
            case "actor_token without its type": parameters["actor_token"] = actor; break;
            case "actor_token_type without a token": parameters["actor_token_type"] = AccessTokenType; break;
            case "actor_token_type id_token": (parameters["actor_token"], parameters["actor_token_type"]) = (actor, "urn:ietf:params:oauth:token-type:id_token"); break;
        }
        var before = await data.TokensAsync(user.Id);

        var exchanged = await protocol.TokenAsync(service, ProtocolClient.Form([.. parameters.Select(p => (p.Key, p.Value))]));

        Assert.Equal(HttpStatusCode.BadRequest, exchanged.Status);
        Assert.Equal("invalid_request", exchanged.Error);
        Assert.Null(exchanged.AccessToken);
        Assert.Equal(before.Count, (await data.TokensAsync(user.Id)).Count);
    }

    private Task<Microsoft.IdentityModel.Tokens.TokenValidationResult> ResourceServerValidationAsync(string token) =>
        Discovery.ResourceServerValidationTests.ValidateAsync(server, token, TestData.ApiResource);
}
