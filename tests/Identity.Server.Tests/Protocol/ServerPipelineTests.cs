using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.ClientAuthentication;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Discovery;
using Identity.Server.Protocol.EndSession;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Introspection;
using Identity.Server.Protocol.Keys;
using Identity.Server.Protocol.Protection;
using Identity.Server.Protocol.Revocation;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Identity.Server.Protocol.Token;
using Identity.Server.Protocol.Token.Rotation;
using Identity.Server.Protocol.Transport;
using Identity.Server.Protocol.UserInfo;
using Identity.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;
using Handlers = OpenIddict.Server.OpenIddictServerHandlers;
using AspNetCoreHandlers = OpenIddict.Server.AspNetCore.OpenIddictServerAspNetCoreHandlers;

namespace Identity.Server.Tests.Protocol;

/// <summary>
/// Pins each of our OpenIddict handlers between the built-ins it was written against (by their orders in the running
/// pipeline), and that the built-ins it replaces are gone: an OpenIddict upgrade that moves or renames one turns this
/// red instead of silently reordering ours.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ServerPipelineTests(ServerFixture server)
{
    public static TheoryData<Type, Type?, Type?> Neighbours => new()
    {
        // our handler, the built-in just before it, the built-in just after it (in its event's pipeline)
        { typeof(InferEndpointTypeFromPath), typeof(AspNetCoreHandlers.ResolveRequestUri), typeof(AspNetCoreHandlers.ValidateHostHeader) },
        { typeof(RejectPlainHttp), typeof(InferEndpointTypeFromPath), typeof(AspNetCoreHandlers.ValidateHostHeader) },
        { typeof(RequireLoadedKeys), typeof(InferEndpointTypeFromPath), typeof(AspNetCoreHandlers.ValidateHostHeader) },
        { typeof(RejectRepeatedParameters<ExtractTokenRequestContext>), typeof(ReadBasicCredentials<ExtractTokenRequestContext>), null },
        { typeof(RejectRepeatedParameters<ExtractAuthorizationRequestContext>), typeof(AspNetCoreHandlers.ExtractGetOrPostRequest<ExtractAuthorizationRequestContext>), null },
        { typeof(RedirectPostsWithoutSessionCookieToGet<ExtractAuthorizationRequestContext>), typeof(RejectRepeatedParameters<ExtractAuthorizationRequestContext>), null },
        { typeof(RedirectPostsWithoutSessionCookieToGet<ExtractEndSessionRequestContext>), typeof(RejectRepeatedParameters<ExtractEndSessionRequestContext>), null },
        { typeof(RejectTokenInHeaderAndBody), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractUserInfoRequestContext>), typeof(ReadBearerToken) },
        { typeof(ReadBearerToken), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractUserInfoRequestContext>), typeof(RejectRepeatedParameters<ExtractUserInfoRequestContext>) },
        { typeof(RequireClientIdentification), typeof(Handlers.Exchange.ValidateGrantType), typeof(Handlers.Exchange.ValidateAuthorizationCodeParameter) },
        { typeof(RejectGrantTypesNotAllowed), typeof(Handlers.ValidateClientSecret), typeof(Handlers.ValidateAccessToken) },
        { typeof(RejectUnauthenticatedClientCredentials), typeof(Handlers.Exchange.ValidateAuthorizationCodeParameter), typeof(Handlers.Exchange.ValidateClientCredentialsParameters) },
        { typeof(RejectPersonalScopesForClients), typeof(Handlers.Exchange.ValidateEndpointPermissions), typeof(Handlers.Exchange.ValidateGrantTypePermissions) },
        { typeof(RejectScopesNotAllowed<ValidateTokenRequestContext>), typeof(Handlers.Exchange.ValidateEndpointPermissions), typeof(Handlers.Exchange.ValidateGrantTypePermissions) },
        { typeof(RejectScopesNotAllowed<ValidateAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidateEndpointPermissions), typeof(Handlers.Authentication.ValidateGrantTypePermissions) },
        { typeof(RejectScopesNotGranted), typeof(Handlers.Exchange.ValidateCodeVerifier), null },
        { typeof(RememberRegisteredRedirectUri), typeof(Handlers.Authentication.ValidateAuthentication), typeof(Handlers.Authentication.ValidateRedirectUriParameter) },
        { typeof(SendValidationErrorsToTheClient), typeof(Handlers.Authentication.AttachRedirectUri), typeof(Handlers.Authentication.InferResponseMode) },
        { typeof(SendErrorsOfUnknownResponseTypesInTheQuery), typeof(Handlers.Authentication.InferResponseMode), typeof(Handlers.Authentication.AttachResponseState) },
        { typeof(WriteFormPostResponse), typeof(AspNetCoreHandlers.Authentication.ProcessSelfRedirection), typeof(AspNetCoreHandlers.Authentication.ProcessQueryResponse) },
        { typeof(RevokeAuthorizationOnReuse), typeof(Handlers.Protection.ValidatePrincipal), typeof(Handlers.Protection.ValidateExpirationDate) },
        { typeof(RedeemOrReplayRefreshToken), typeof(Handlers.ValidateSignInDemand), typeof(Handlers.RestoreInternalClaims) },
        { typeof(RedeemOtherTokenEntries), typeof(Handlers.ValidateSignInDemand), typeof(Handlers.RestoreInternalClaims) },
        { typeof(CapRefreshTokenLifetime), typeof(Handlers.PrepareRefreshTokenPrincipal), typeof(Handlers.PrepareIdentityTokenPrincipal) },
        { typeof(CompleteTokenResponse), typeof(Handlers.AttachSignInParameters), typeof(Handlers.Exchange.ApplyTokenResponse<ProcessSignInContext>) },
        { typeof(CaptureRefreshSuccessor), typeof(Handlers.AttachSignInParameters), typeof(Handlers.Exchange.ApplyTokenResponse<ProcessSignInContext>) },
        { typeof(DeferTokenRows), typeof(Handlers.ValidateSignInDemand), typeof(Handlers.RestoreInternalClaims) },
        { typeof(WriteTokenRows), typeof(Handlers.AttachSignInParameters), typeof(Handlers.Exchange.ApplyTokenResponse<ProcessSignInContext>) },
        { typeof(SelectKeys), typeof(Handlers.Protection.AttachSecurityCredentials), typeof(Handlers.Protection.CreateTokenEntry) },
        { typeof(SkipIdentityTokenEntries), typeof(Handlers.Protection.AttachSecurityCredentials), typeof(Handlers.Protection.CreateTokenEntry) },
        { typeof(ApplyClientAccessTokenFormat), typeof(Handlers.Protection.CreateTokenEntry), typeof(Handlers.Protection.AttachTokenSubject) },
        { typeof(AttachJwtIdAndNotBefore), typeof(Handlers.Protection.AttachTokenMetadata), typeof(Handlers.Protection.GenerateIdentityModelToken) },
        { typeof(RejectPublicIntrospectionClients), typeof(Handlers.Introspection.ValidateAuthentication), typeof(Handlers.Introspection.ValidateEndpointPermissions) },
        { typeof(ValidateIntrospectionCaller), typeof(Handlers.Introspection.ValidateEndpointPermissions), null },
        { typeof(DescribeToken), typeof(Handlers.Introspection.AttachMetadataClaims), null },
        { typeof(RevokeTokenEvenWhenRaced), typeof(Handlers.Revocation.AttachPrincipal), null },
        { typeof(RevokeAuthorizationWithRefreshToken), typeof(RevokeTokenEvenWhenRaced), null },
        { typeof(AttachDiscoveryMetadata), typeof(Handlers.Discovery.AttachClientAuthenticationMethods), null },
        { typeof(AdvertiseIdTokensInRs256Only), typeof(Handlers.Discovery.AttachSigningAlgorithms), null },
        { typeof(AllowCachingOfConfiguration), typeof(AspNetCoreHandlers.AttachWwwAuthenticateHeader<ApplyConfigurationResponseContext>), typeof(AspNetCoreHandlers.ProcessJsonResponse<ApplyConfigurationResponseContext>) },
        { typeof(AllowCachingOfJsonWebKeySet), typeof(AspNetCoreHandlers.AttachWwwAuthenticateHeader<ApplyJsonWebKeySetResponseContext>), typeof(AspNetCoreHandlers.ProcessJsonResponse<ApplyJsonWebKeySetResponseContext>) },
        // Further grants and client authentication (issue 19)
        { typeof(RejectRepeatedParameters<ExtractPushedAuthorizationRequestContext>), typeof(ReadBasicCredentials<ExtractPushedAuthorizationRequestContext>), null },
        { typeof(RejectRepeatedParameters<ExtractDeviceAuthorizationRequestContext>), typeof(ReadBasicCredentials<ExtractDeviceAuthorizationRequestContext>), null },
        { typeof(AcceptUserCodesInAnyCase), typeof(AspNetCoreHandlers.ExtractGetOrPostRequest<ExtractEndUserVerificationRequestContext>), null },
        { typeof(ConfigureClientAssertionValidation), typeof(Handlers.Protection.ResolveTokenValidationParameters), typeof(Handlers.Protection.RemoveDisallowedCharacters) },
        { typeof(ValidateClientAssertionClaims), typeof(Handlers.Protection.ValidatePresenters), typeof(Handlers.Protection.ValidateAudiences) },
        { typeof(RejectReplayedClientAssertions), typeof(Handlers.ValidateClientAssertionIssuer), typeof(Handlers.ValidateClientId) },
        { typeof(RejectScopesNotAllowed<ValidatePushedAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidatePushedEndpointPermissions), typeof(Handlers.Authentication.ValidatePushedGrantTypePermissions) },
        { typeof(RejectScopesNotAllowed<ValidateDeviceAuthorizationRequestContext>), typeof(Handlers.Device.ValidateEndpointPermissions), typeof(Handlers.Device.ValidateGrantTypePermissions) },
        { typeof(RejectTargetsNotInSubjectToken), typeof(Handlers.Exchange.ValidateGrantTypePermissions), typeof(Handlers.Exchange.ValidateProofKeyForCodeExchangeRequirement) },
        { typeof(ValidateAuthorizedPartyOfOtherGrants), typeof(Handlers.Exchange.ValidateProofKeyForCodeExchangeRequirement), typeof(Handlers.Exchange.ValidateRedirectUri) },
        { typeof(RejectUnauthorizedExchangeParties), typeof(Handlers.Exchange.ValidateProofKeyForCodeExchangeRequirement), typeof(Handlers.Exchange.ValidateRedirectUri) },
        { typeof(RejectDeviceCodesOfOtherClients), typeof(Handlers.Protection.ValidateProofOfPossession), typeof(SlowDownEagerPolling) },
        { typeof(SlowDownEagerPolling), typeof(Handlers.Protection.ValidateProofOfPossession), typeof(Handlers.Protection.ValidateTokenEntry) },
        { typeof(StateLifetimeAsIssued), typeof(Handlers.AttachSignInParameters), typeof(Handlers.Authentication.ApplyPushedAuthorizationResponse<ProcessSignInContext>) },
        { typeof(AttachPollingInterval), typeof(Handlers.AttachSignInParameters), typeof(Handlers.Device.ApplyDeviceAuthorizationResponse<ProcessSignInContext>) },
        { typeof(RejectInvalidIdTokenHint<ValidateEndSessionRequestContext>), typeof(Handlers.Session.ValidateAuthentication), typeof(Handlers.Session.ValidateAuthorizedParty) },
        { typeof(RejectInvalidIdTokenHint<ValidateAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidateClientRedirectUri), typeof(Handlers.Authentication.ValidateAuthorizedParty) },
        { typeof(RejectInvalidIdTokenHint<ValidatePushedAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidatePushedClientRedirectUri), typeof(Handlers.Authentication.ValidatePushedAuthorizedParty) },
        { typeof(OmitErrorUri<ProcessErrorContext>), typeof(Handlers.AttachErrorParameters), typeof(Handlers.AttachCustomErrorParameters) },
        { typeof(OmitErrorUri<ProcessChallengeContext>), typeof(Handlers.AttachDefaultChallengeError), typeof(Handlers.AttachCustomChallengeParameters) },
        { typeof(ReadBasicCredentials<ExtractTokenRequestContext>), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractTokenRequestContext>), null },
        { typeof(ReadBasicCredentials<ExtractIntrospectionRequestContext>), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractIntrospectionRequestContext>), null },
        { typeof(ReadBasicCredentials<ExtractRevocationRequestContext>), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractRevocationRequestContext>), null },
        { typeof(ReadBasicCredentials<ExtractPushedAuthorizationRequestContext>), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractPushedAuthorizationRequestContext>), null },
        { typeof(ReadBasicCredentials<ExtractDeviceAuthorizationRequestContext>), typeof(AspNetCoreHandlers.ExtractClientCertificate<ExtractDeviceAuthorizationRequestContext>), null },
        { typeof(RejectMalformedProofKeys<ValidateAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidateProofKeyForCodeExchangeParameters), typeof(Handlers.Authentication.ValidateResponseType) },
        { typeof(RejectMalformedProofKeys<ValidatePushedAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidatePushedProofKeyForCodeExchangeParameters), typeof(Handlers.Authentication.ValidatePushedAuthentication) },
        { typeof(RejectMalformedProofKeys<ValidateTokenRequestContext>), typeof(Handlers.Exchange.ValidateProofKeyForCodeExchangeParameters), null },
        { typeof(RejectMalformedMaxAge<ValidateAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidatePromptParameter), typeof(Handlers.Authentication.ValidateProofKeyForCodeExchangeParameters) },
        { typeof(RejectMalformedMaxAge<ValidatePushedAuthorizationRequestContext>), typeof(Handlers.Authentication.ValidatePushedPromptParameter), null },
        { typeof(AcceptPostWithoutBody), null, typeof(AspNetCoreHandlers.ExtractGetOrPostRequest<ExtractUserInfoRequestContext>) },
        { typeof(SkipIdTokenOutsideRequestedScope), typeof(Handlers.EvaluateGeneratedTokens), typeof(Handlers.AttachAuthorization) },
        { typeof(ReportRejectedExchangeTokensAsInvalidRequest), typeof(Handlers.Exchange.NormalizeErrorResponse), typeof(AspNetCoreHandlers.AttachHttpResponseCode<ApplyTokenResponseContext>) },
    };

    [Theory]
    [MemberData(nameof(Neighbours))]
    public void OurHandler_SitsBetweenTheBuiltInsItWasWrittenAgainst(Type handler, Type? before, Type? after)
    {
        var ours = Single(handler);
        Assert.Equal(OpenIddictServerHandlerType.Custom, ours.Type);
        if (before is not null)
        {
            var built = Single(before);
            Assert.Equal(ours.ContextType, built.ContextType);
            Assert.True(built.Order < ours.Order, $"{handler.Name} ({ours.Order}) should run after {before.Name} ({built.Order}).");
        }
        if (after is not null)
        {
            var built = Single(after);
            Assert.Equal(ours.ContextType, built.ContextType);
            Assert.True(ours.Order < built.Order, $"{handler.Name} ({ours.Order}) should run before {after.Name} ({built.Order}).");
        }
    }

    private OpenIddictServerHandlerDescriptor Single(Type type) => Handlers().Single(h => h.ServiceDescriptor.ServiceType == type);

    [Theory]
    [InlineData(typeof(Handlers.InferEndpointType))]
    [InlineData(typeof(AspNetCoreHandlers.ValidateTransportSecurityRequirement))]
    [InlineData(typeof(Handlers.RedeemTokenEntry))]
    [InlineData(typeof(Handlers.Exchange.ValidateClientIdParameter))]
    [InlineData(typeof(Handlers.Exchange.ValidateScopePermissions))]
    [InlineData(typeof(Handlers.Authentication.ValidateScopePermissions))]
    [InlineData(typeof(Handlers.Exchange.ValidateGrantedScopes))]
    [InlineData(typeof(AspNetCoreHandlers.Authentication.ProcessFormPostResponse))]
    [InlineData(typeof(Handlers.Introspection.ValidateTokenType))]
    [InlineData(typeof(Handlers.Introspection.ValidateAuthorizedParty))]
    [InlineData(typeof(Handlers.Introspection.AttachApplicationClaims))]
    [InlineData(typeof(Handlers.Authentication.ValidatePushedScopePermissions))]
    [InlineData(typeof(Handlers.Device.ValidateScopePermissions))]
    [InlineData(typeof(Handlers.Exchange.ValidateAudiences))]
    [InlineData(typeof(Handlers.Exchange.ValidateResources))]
    [InlineData(typeof(Handlers.Exchange.ValidateAudiencePermissions))]
    [InlineData(typeof(Handlers.Exchange.ValidateResourcePermissions))]
    [InlineData(typeof(Handlers.Exchange.ValidateAuthorizedParty))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractTokenRequestContext>))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractIntrospectionRequestContext>))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractRevocationRequestContext>))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractPushedAuthorizationRequestContext>))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractDeviceAuthorizationRequestContext>))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractGetOrPostRequest<ExtractIntrospectionRequestContext>))]
    [InlineData(typeof(Handlers.Revocation.RevokeToken))]
    [InlineData(typeof(AspNetCoreHandlers.ExtractAccessToken<ExtractUserInfoRequestContext>))]
    public void ReplacedBuiltIn_IsGone(Type builtIn) =>
        Assert.DoesNotContain(Handlers(), h => h.ServiceDescriptor.ServiceType == builtIn);

    private IReadOnlyList<OpenIddictServerHandlerDescriptor> Handlers() =>
        server.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers;
}
