using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Identity.Server.Tests;

/// <summary>
/// Certify refusals decided by the real Identity.Kubernetes validators, wired as <c>identity serve</c> wires them:
/// local JWT validation against a JWKS file with ServiceAccount tokens from <see cref="Identity.Cli.Demo.ServiceAccountTokenIssuer"/>,
/// and TokenReview against an HTTPS double of the Kubernetes API. Each refusal carries the exact gRPC code and message
/// and issues nothing (no audit line, no event, issued counter still 0).
/// </summary>
public sealed class RealValidatorCertifyTests
{
    private const string AudienceError =
        "[invalid bearer token, token audiences [\"https://kubernetes.default.svc\"] is invalid for the target audiences [\"identity.l5d.io\"]]";

    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    public static TheoryData<string, string, string, StatusCode, string> JwksBadRequests()
    {
        var voting = ServerFixtures.IdentityOf("voting", "emojivoto");
        var other = ServerFixtures.IdentityOf("web", "other");
        return new()
        {
            { "jwt signed by a key the cluster never published", Web, "other-key", StatusCode.InvalidArgument, "token signing key is unknown" },
            { "jwt claims under another token's signature", Web, "tampered", StatusCode.InvalidArgument, "token signature is invalid" },
            { "jwt expired", Web, "expired", StatusCode.InvalidArgument, "token has expired" },
            { "jwt not yet valid", Web, "not-yet-valid", StatusCode.InvalidArgument, "token is not yet valid" },
            { "jwt for another audience", Web, "wrong-audience", StatusCode.InvalidArgument, "token audience is not identity.l5d.io" },
            { "jwt from another issuer", Web, "wrong-issuer", StatusCode.InvalidArgument, $"token issuer is not {RealValidators.TokenIssuer}" },
            { "jwt without kubernetes.io claims", Web, "no-kubernetes-claims", StatusCode.InvalidArgument, "token has no kubernetes.io claims" },
            { "unsigned jwt (alg none)", Web, "alg-none", StatusCode.InvalidArgument, "token signing algorithm is not RS256 or ES256" },
            { "token that is not a jwt", Web, "garbage", StatusCode.InvalidArgument, "token is malformed" },
            { "jwt of another ServiceAccount", voting, "valid", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={voting}; found={Web}" },
            { "jwt of another namespace", other, "valid", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={other}; found={Web}" },
        };
    }

    [Theory]
    [MemberData(nameof(JwksBadRequests))]
    public async Task Jwks_validator_refuses_with_exact_code_and_message(string caseName, string identity, string tokenKind, StatusCode code, string message)
    {
        var now = TestServer.Now();
        using var signer = new TokenSigner(now);
        await using var server = await TestServer.StartAsync(now: now, services: s => RealValidators.AddJwks(s, signer.JwksFile));
        // Every token belongs to (or claims) emojivoto/web; the rows vary the requested identity and the defect.
        var token = signer.Token(tokenKind, "emojivoto", "web");

        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(identity, token, TestCsr.Proxy(identity)), cancellationToken: TestContext.Current.CancellationToken));

        AssertRefused(server, caseName, code, message, error);
        Assert.DoesNotContain(server.Logs.Lines, l => l.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Jwks_validator_issues_for_a_good_token_and_reuses_the_review()
    {
        var now = TestServer.Now();
        using var signer = new TokenSigner(now);
        await using var server = await TestServer.StartAsync(now: now, services: s => RealValidators.AddJwks(s, signer.JwksFile));
        var token = signer.Token("valid", "emojivoto", "web");
        var ct = TestContext.Current.CancellationToken;

        var first = await server.Client.CertifyAsync(TestServer.Request(Web, token, TestCsr.Proxy(Web)), cancellationToken: ct);
        var second = await server.Client.CertifyAsync(TestServer.Request(Web, token, TestCsr.Proxy(Web)), cancellationToken: ct);

        using var leaf = X509CertificateLoader.LoadCertificate(first.LeafCertificate.ToByteArray());
        Assert.Equal($"CN={Web}", leaf.Subject);
        Assert.NotEqual(first.LeafCertificate, second.LeafCertificate);
        Assert.Equal(2, server.IssuedCounter.Total);
        Assert.Equal(2, server.AuditIssued);
        Assert.Equal(0, server.Validator.Calls);
    }

    public static TheoryData<string, string, string, StatusCode, string> TokenReviewBadRequests()
    {
        var voting = ServerFixtures.IdentityOf("voting", "emojivoto");
        return new()
        {
            { "TokenReview unauthenticated", Web, "unauthenticated", StatusCode.FailedPrecondition, "authentication token could not be authenticated" },
            { "TokenReview status.error", Web, "error", StatusCode.InvalidArgument, "[invalid bearer token, service account token has been invalidated]" },
            { "TokenReview audience fallback, then unauthenticated", Web, "fallback-unauthenticated", StatusCode.FailedPrecondition, "authentication token could not be authenticated" },
            { "TokenReview audience fallback, then another ServiceAccount", Web, "fallback-voting", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={Web}; found={voting}" },
            { "TokenReview of another ServiceAccount", Web, "voting", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={Web}; found={voting}" },
            { "TokenReview of a node, not a ServiceAccount", Web, "node", StatusCode.InvalidArgument, "Username must be in form system:TYPE:NS:SA: system:node:worker-1" },
            { "TokenReview API 500", Web, "500", StatusCode.Internal, $"error validating token for {Web}: TokenReview failed: HTTP 500 InternalServerError: etcdserver: request timed out" },
            { "TokenReview API 401", Web, "401", StatusCode.Internal, $"error validating token for {Web}: TokenReview failed: HTTP 401 Unauthorized: Unauthorized" },
            { "TokenReview API 403", Web, "403", StatusCode.Internal, $"error validating token for {Web}: TokenReview failed: HTTP 403 Forbidden: tokenreviews.authentication.k8s.io is forbidden" },
            { "TokenReview API timeout", Web, "hang", StatusCode.Internal, $"error validating token for {Web}: TokenReview timed out after 10s" },
        };
    }

    [Theory]
    [MemberData(nameof(TokenReviewBadRequests))]
    public async Task TokenReview_validator_refuses_with_exact_code_and_message(string caseName, string identity, string reply, StatusCode code, string message)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var kube = await KubernetesApi.StartAsync();
        var answered = 0;
        kube.Api.OnTokenReview = async (review, aborted) =>
        {
            var first = Interlocked.Increment(ref answered) == 1;
            switch (reply)
            {
                case "unauthenticated":
                    return FakeKubernetesApi.Unauthenticated();
                case "error":
                    return FakeKubernetesApi.ReviewError("[invalid bearer token, service account token has been invalidated]");
                case "fallback-unauthenticated":
                    return first ? FakeKubernetesApi.ReviewError(AudienceError) : FakeKubernetesApi.Unauthenticated();
                case "fallback-voting":
                    return first ? FakeKubernetesApi.ReviewError(AudienceError) : FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:voting");
                case "voting":
                    return FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:voting", "identity.l5d.io");
                case "node":
                    return FakeKubernetesApi.Authenticated("system:node:worker-1", "identity.l5d.io");
                case "500":
                    return FakeKubernetesApi.Status(500, "InternalError", "etcdserver: request timed out");
                case "401":
                    return FakeKubernetesApi.Status(401, "Unauthorized", "Unauthorized");
                case "403":
                    return FakeKubernetesApi.Status(403, "Forbidden", "tokenreviews.authentication.k8s.io is forbidden");
                case "hang":
                    // Never answers; the validator's ReviewTimeout (on the server's clock) has to end the call.
                    await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
                    return Results.StatusCode(500);
                default:
                    throw new ArgumentOutOfRangeException(nameof(reply));
            }
        };
        await using var server = await TestServer.StartAsync(services: s => RealValidators.AddTokenReview(s, kube.Kubeconfig));
        var token = "eyJhbGciOiJSUzI1NiJ9.projected-token-of-web.signature";
        var arrived = kube.NextReview(ct);

        var call = server.Client.CertifyAsync(TestServer.Request(identity, token, TestCsr.Proxy(identity)), cancellationToken: ct).ResponseAsync;
        if (reply == "hang")
        {
            await arrived;
            Assert.False(call.IsCompleted);
            // Just short of the 10s ReviewTimeout nothing happens; at 10s the review is abandoned.
            server.Time.Advance(TimeSpan.FromSeconds(9));
            await Task.Yield();
            Assert.False(call.IsCompleted);
            server.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(30), ct));

        AssertRefused(server, caseName, code, message, error);
        var reviews = kube.Api.Reviews.ToArray();
        Assert.Equal(token, reviews[0].Token);
        Assert.Equal(["identity.l5d.io"], reviews[0].Audiences!);
        if (reply.StartsWith("fallback", StringComparison.Ordinal))
        {
            Assert.Equal(2, reviews.Length);
            Assert.Null(reviews[1].Audiences);
        }
        else
        {
            Assert.Single(reviews);
        }

        Assert.DoesNotContain(server.Logs.Lines, l => l.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenReview_audience_fallback_authenticates_a_legacy_token_and_issues()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var kube = await KubernetesApi.StartAsync();
        kube.Api.OnTokenReview = (review, _) => Task.FromResult(review.Audiences is null
            ? FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:web", "https://kubernetes.default.svc")
            : FakeKubernetesApi.ReviewError(AudienceError));
        await using var server = await TestServer.StartAsync(services: s => RealValidators.AddTokenReview(s, kube.Kubeconfig));

        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "legacy-secret-token-of-web", TestCsr.Proxy(Web)), cancellationToken: ct);

        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        Assert.Equal($"CN={Web}", leaf.Subject);
        Assert.Equal(2, kube.Api.ReviewCount);
        Assert.Equal(1, server.IssuedCounter.Total);
        Assert.Equal(1, server.AuditIssued);
    }

    private static void AssertRefused(TestServer server, string caseName, StatusCode code, string message, RpcException error)
    {
        Assert.True(code == error.StatusCode, $"{caseName}: {error.StatusCode} {error.Status.Detail}");
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(0, server.Events.Issued);
        Assert.Equal(0, server.AuditIssued);
        Assert.Equal(0, server.IssuedCounter.Total);
        // The test validator was replaced: the verdict came from the real one.
        Assert.Equal(0, server.Validator.Calls);
        var refusal = Assert.Single(server.Logs.Lines, l => l.EventId == 2001);
        Assert.Contains($"code={code}", refusal.Message, StringComparison.Ordinal);
    }
}
