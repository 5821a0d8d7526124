using Identity.Server.Protocol.Authorization;
using Identity.Server.Protocol.ClientAuthentication;
using Identity.Server.Protocol.Device;
using Identity.Server.Protocol.Discovery;
using Identity.Server.Protocol.EndSession;
using Identity.Server.Protocol.Identities;
using Identity.Server.Protocol.Introspection;
using Identity.Server.Protocol.Keys;
using Identity.Server.Protocol.Metrics;
using Identity.Server.Protocol.Protection;
using Identity.Server.Protocol.Revocation;
using Identity.Server.Protocol.Resources;
using Identity.Server.Protocol.Scopes;
using Identity.Server.Protocol.Storage;
using Identity.Server.Protocol.Token;
using Identity.Server.Protocol.Token.Rotation;
using Identity.Server.Protocol.Transport;
using Identity.Server.Protocol.UserInfo;
using Identity.Server.Protocol.Validation;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Identity.Server.Protocol;

/// <summary>
/// Every change we make to OpenIddict's pipelines, in pipeline order; a replaced built-in is removed on the line above
/// its replacement, which takes its order. ServerPipelineTests pins each handler's neighbours.
/// </summary>
internal static class ServerPipeline
{
    public static OpenIddictServerBuilder AddOurHandlers(this OpenIddictServerBuilder server) => server
        // Every request
        .RemoveEventHandler(OpenIddictServerHandlers.InferEndpointType.Descriptor)
        .AddEventHandler(InferEndpointTypeFromPath.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ValidateTransportSecurityRequirement.Descriptor)
        .AddEventHandler(RejectPlainHttp.Descriptor)
        .AddEventHandler(RequireLoadedKeys.Descriptor)
        .AddEventHandler(OmitErrorUri<ProcessErrorContext>.Descriptor)
        .AddEventHandler(OmitErrorUri<ProcessChallengeContext>.Descriptor)
        .AddEventHandler(KeepErrorTextsInTheirCharacterSet<ProcessErrorContext>.Descriptor)
        .AddEventHandler(KeepErrorTextsInTheirCharacterSet<ProcessChallengeContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractTokenRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractRevocationRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractIntrospectionRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractUserInfoRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractEndSessionRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractPushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectRepeatedParameters<ExtractDeviceAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectLongScopeLists<ExtractAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectLongScopeLists<ExtractTokenRequestContext>.Descriptor)
        .AddEventHandler(RejectLongScopeLists<ExtractPushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectLongScopeLists<ExtractDeviceAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RedirectPostsWithoutSessionCookieToGet<ExtractAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RedirectPostsWithoutSessionCookieToGet<ExtractEndSessionRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Authentication.ValidateResourceParameter.Descriptor)
        .AddEventHandler(RefuseMalformedResourcesAsInvalidTarget<ValidateAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateResourceParameter.Descriptor)
        .AddEventHandler(RefuseMalformedResourcesAsInvalidTarget<ValidateTokenRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Authentication.ValidatePushedResourceParameter.Descriptor)
        .AddEventHandler(RefuseMalformedResourcesAsInvalidTarget<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(RejectResourcesOutsideTheScopes<ValidateAuthorizationRequestContext>.BuiltIn)
        .RemoveEventHandler(RejectResourcesOutsideTheScopes<ValidateAuthorizationRequestContext>.BuiltInPermissions)
        .AddEventHandler(RejectResourcesOutsideTheScopes<ValidateAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(RejectResourcesOutsideTheScopes<ValidatePushedAuthorizationRequestContext>.BuiltIn)
        .RemoveEventHandler(RejectResourcesOutsideTheScopes<ValidatePushedAuthorizationRequestContext>.BuiltInPermissions)
        .AddEventHandler(RejectResourcesOutsideTheScopes<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(AcceptUserCodesInAnyCase.Descriptor)
        .AddEventHandler(RejectMalformedProofKeys<ValidateAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectMalformedProofKeys<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectMalformedProofKeys<ValidateTokenRequestContext>.Descriptor)
        .AddEventHandler(RejectMalformedMaxAge<ValidateAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectMalformedMaxAge<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectInvalidIdTokenHint<ValidateAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectInvalidIdTokenHint<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(RejectInvalidIdTokenHint<ValidateEndSessionRequestContext>.Descriptor)
        // Client authentication: client_secret_basic, private_key_jwt
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractTokenRequestContext>.Descriptor)
        .AddEventHandler(ReadBasicCredentials<ExtractTokenRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractIntrospectionRequestContext>.Descriptor)
        .AddEventHandler(ReadBasicCredentials<ExtractIntrospectionRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractRevocationRequestContext>.Descriptor)
        .AddEventHandler(ReadBasicCredentials<ExtractRevocationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractPushedAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(ReadBasicCredentials<ExtractPushedAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractBasicAuthenticationCredentials<ExtractDeviceAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(ReadBasicCredentials<ExtractDeviceAuthorizationRequestContext>.Descriptor)
        .AddEventHandler(ConfigureClientAssertionValidation.Descriptor)
        .AddEventHandler(ValidateClientAssertionClaims.Descriptor)
        .AddEventHandler(RejectReplayedClientAssertions.Descriptor)
        // Clients and scopes
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateClientIdParameter.Descriptor)
        .AddEventHandler(RequireClientIdentification.Descriptor)
        .AddEventHandler(RejectGrantTypesNotAllowed.Descriptor)
        .AddEventHandler(RejectUnauthenticatedClientCredentials.Descriptor)
        .AddEventHandler(RejectPersonalScopesForClients.Descriptor)
        .RemoveEventHandler(RejectUnknownScopes<ValidateAuthorizationRequestContext>.BuiltIn)
        .AddEventHandler(RejectUnknownScopes<ValidateAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(RejectUnknownScopes<ValidateTokenRequestContext>.BuiltIn)
        .AddEventHandler(RejectUnknownScopes<ValidateTokenRequestContext>.Descriptor)
        .RemoveEventHandler(RejectUnknownScopes<ValidatePushedAuthorizationRequestContext>.BuiltIn)
        .AddEventHandler(RejectUnknownScopes<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(RejectUnknownScopes<ValidateDeviceAuthorizationRequestContext>.BuiltIn)
        .AddEventHandler(RejectUnknownScopes<ValidateDeviceAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Authentication.ValidateScopePermissions.Descriptor)
        .AddEventHandler(RejectScopesNotAllowed<ValidateAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateScopePermissions.Descriptor)
        .AddEventHandler(RejectScopesNotAllowed<ValidateTokenRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Authentication.ValidatePushedScopePermissions.Descriptor)
        .AddEventHandler(RejectScopesNotAllowed<ValidatePushedAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Device.ValidateScopePermissions.Descriptor)
        .AddEventHandler(RejectScopesNotAllowed<ValidateDeviceAuthorizationRequestContext>.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateGrantedScopes.Descriptor)
        .AddEventHandler(RejectScopesNotGranted.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateAudiences.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateResources.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateAudiencePermissions.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateResourcePermissions.Descriptor)
        .AddEventHandler(RejectTargetsNotInSubjectToken.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Exchange.ValidateAuthorizedParty.Descriptor)
        .AddEventHandler(ValidateAuthorizedPartyOfOtherGrants.Descriptor)
        .AddEventHandler(RejectUnauthorizedExchangeParties.Descriptor)
        // Token validation
        .AddEventHandler(RevokeAuthorizationOnReuse.Descriptor)
        .AddEventHandler(KeepDeviceCodeWhenUsedUserCodeReturns.Descriptor)
        .AddEventHandler(RejectDeviceCodesOfOtherClients.Descriptor)
        .AddEventHandler(SlowDownEagerPolling.Descriptor)
        // Sign-in: redemption, lifetimes, the rows, the response
        .AddEventHandler(NarrowAudiencesToRequestedResources.Descriptor)
        .AddEventHandler(DeferTokenRows.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.RedeemTokenEntry.Descriptor)
        .AddEventHandler(RedeemOrReplayRefreshToken.Descriptor)
        .AddEventHandler(RedeemOtherTokenEntries.Descriptor)
        .AddEventHandler(SkipIdTokenOutsideRequestedScope.Descriptor)
        .AddEventHandler(NarrowAudiencesWithScope.Descriptor)
        .AddEventHandler(CapRefreshTokenLifetime.Descriptor)
        .AddEventHandler(CompleteTokenResponse.Descriptor)
        .AddEventHandler(CaptureRefreshSuccessor.Descriptor)
        .AddEventHandler(WriteTokenRows.Descriptor)
        .AddEventHandler(StateLifetimeAsIssued.Descriptor)
        .AddEventHandler(AttachPollingInterval.Descriptor)
        .AddEventHandler(AdvertiseVerificationUnderTheIssuer.Descriptor)
        .AddEventHandler(ReportRejectedExchangeTokensAsInvalidRequest.Descriptor)
        // What goes into a token
        .AddEventHandler(SelectKeys.Descriptor)
        .AddEventHandler(SkipIdentityTokenEntries.Descriptor)
        .AddEventHandler(ApplyClientAccessTokenFormat.Descriptor)
        .AddEventHandler(AttachJwtIdAndNotBefore.Descriptor)
        // Authorization endpoint
        .AddEventHandler(RememberRegisteredRedirectUri.Descriptor)
        .AddEventHandler(SendValidationErrorsToTheClient.Descriptor)
        .AddEventHandler(SendErrorsOfUnknownResponseTypesInTheQuery.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.Authentication.ProcessFormPostResponse.Descriptor)
        .AddEventHandler(WriteFormPostResponse.Descriptor)
        // Userinfo
        .AddEventHandler(AcceptPostWithoutBody.Descriptor)
        .AddEventHandler(RejectTokenInUrl.Descriptor)
        .AddEventHandler(RejectTokenInHeaderAndBody.Descriptor)
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractAccessToken<ExtractUserInfoRequestContext>.Descriptor)
        .AddEventHandler(ReadBearerToken.Descriptor)
        // Introspection: RFC 7662 §2.1 is a POST; OpenIddict also reads a GET, which puts the token and the client's
        // credentials in the URL, and so in logs and histories (RFC 6749 §2.3.1: credentials never in the URI).
        .RemoveEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractGetOrPostRequest<ExtractIntrospectionRequestContext>.Descriptor)
        .AddEventHandler(OpenIddictServerAspNetCoreHandlers.ExtractPostRequest<ExtractIntrospectionRequestContext>.Descriptor)
        .AddEventHandler(RejectPublicIntrospectionClients.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Introspection.ValidateTokenType.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Introspection.ValidateAuthorizedParty.Descriptor)
        .AddEventHandler(ValidateIntrospectionCaller.Descriptor)
        .RemoveEventHandler(OpenIddictServerHandlers.Introspection.AttachApplicationClaims.Descriptor)
        .AddEventHandler(DescribeToken.Descriptor)
        // RFC 7662 §4: an introspection answer is about a live token and must not be cached; OpenIddict's own
        // Cache-Control handler is registered for the token endpoint only.
        .AddEventHandler(OpenIddictServerAspNetCoreHandlers.AttachCacheControlHeader<ApplyIntrospectionResponseContext>.Descriptor)
        // Revocation
        .RemoveEventHandler(OpenIddictServerHandlers.Revocation.RevokeToken.Descriptor)
        .AddEventHandler(RevokeTokenEvenWhenRaced.Descriptor)
        .AddEventHandler(RevokeAuthorizationWithRefreshToken.Descriptor)
        // Discovery and JWKS
        .AddEventHandler(AttachDiscoveryMetadata.Descriptor)
        .AddEventHandler(AdvertiseEndpointsUnderTheIssuer.Descriptor)
        .AddEventHandler(AdvertiseIdTokensInRs256Only.Descriptor)
        .AddEventHandler(AllowCachingOfConfiguration.Descriptor)
        .AddEventHandler(AllowCachingOfJsonWebKeySet.Descriptor)
        // Logs and metrics (Hosting/ServerMetrics)
        .AddEventHandler(LogRefusals.Descriptor)
        .AddEventHandler(CountIssuedTokens.Descriptor)
        .AddEventHandler(CountRefusals<ApplyTokenResponseContext>.Descriptor)
        .AddEventHandler(CountRefusals<ApplyRevocationResponseContext>.Descriptor)
        .AddEventHandler(CountRefusals<ApplyIntrospectionResponseContext>.Descriptor)
        .AddEventHandler(CountRefusals<ApplyPushedAuthorizationResponseContext>.Descriptor)
        .AddEventHandler(CountRefusals<ApplyDeviceAuthorizationResponseContext>.Descriptor)
        .AddEventHandler(CountIntrospections.Descriptor)
        .AddEventHandler(CountRevocations.Descriptor);

    public static OpenIddictValidationBuilder AddOurHandlers(this OpenIddictValidationBuilder validation) => validation
        .AddEventHandler(RequireThisServerAsAudience.Descriptor)
        .RemoveEventHandler(OpenIddictValidationAspNetCoreHandlers.ExtractAccessTokenFromAuthorizationHeader.Descriptor)
        .AddEventHandler(ReadBearerTokenFromHeader.Descriptor)
        .AddEventHandler(OmitValidationChallengeErrorUri.Descriptor)
        .AddEventHandler(WriteProblemDetailsForChallenges.Descriptor);
}
