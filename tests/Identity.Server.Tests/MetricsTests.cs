using Identity.Server.Hosting;
using Identity.Server.Issuance;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests;

/// <summary>
/// The Prometheus exporter listens to every meter named Identity.Server in the process, so this runs alone rather
/// than beside other test servers.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsRunsAlone;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Admin_metrics_exposes_issuer_ttl_anchor_ttl_and_certify_counts()
    {
        await using var server = await TestServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var web = ServerFixtures.IdentityOf("web", "emojivoto");
        await server.Client.CertifyAsync(TestServer.Request(web, "sa:emojivoto:web", TestCsr.Proxy(web)), cancellationToken: ct);
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await server.Client.CertifyAsync(TestServer.Request(web, "unauth", TestCsr.Proxy(web)), cancellationToken: ct));

        var metrics = await server.Admin.GetStringAsync("/metrics", ct);
        var ttl = (server.Issuer.Certificate.NotAfter.ToUniversalTime() - server.Time.GetUtcNow().UtcDateTime).TotalSeconds;
        var line = Assert.Single(metrics.Split('\n'), l => l.StartsWith("issuer_cert_ttl_seconds", StringComparison.Ordinal));
        Assert.Equal(ttl, double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture), 0);
        Assert.Contains("trust_anchor_ttl_seconds", metrics, StringComparison.Ordinal);
        Assert.Matches("identity_certify_requests_total\\{[^}]*grpc_code=\"OK\"[^}]*\\} 1", metrics);
        Assert.Matches("identity_certify_requests_total\\{[^}]*grpc_code=\"FailedPrecondition\"[^}]*\\} 1", metrics);
        Assert.Contains("identity_certify_duration_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("identity_token_review_duration_seconds_count", metrics, StringComparison.Ordinal);
        Assert.Matches("identity_certificates_issued_total(\\{[^}]*\\})? 1", metrics);
    }

    [Fact]
    public async Task An_unexpected_exception_is_logged_once_counted_by_type_and_answered_internal_with_a_fixed_message()
    {
        // A bug injected after issuance: the event sink throws, as any dependency might.
        await using var server = await TestServer.StartAsync(services: s => s.AddSingleton<Events.IIssuerEventSink>(new ThrowingEventSink()));
        var ct = TestContext.Current.CancellationToken;
        var web = ServerFixtures.IdentityOf("web", "emojivoto");

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await server.Client.CertifyAsync(TestServer.Request(web, "sa:emojivoto:web", TestCsr.Proxy(web)), cancellationToken: ct));

        Assert.Equal(Grpc.Core.StatusCode.Internal, error.StatusCode);
        Assert.Equal("internal error while processing the certificate request", error.Status.Detail);
        var line = Assert.Single(server.Logs.Lines, l => l.EventId == 2003).Message;
        Assert.StartsWith("Certify hit an unexpected System.InvalidOperationException at Identity.Server.Tests.ThrowingEventSink.IssuedLeafCertificate(", line, StringComparison.Ordinal);
        Assert.DoesNotContain(ThrowingEventSink.Secret, string.Join("\n", server.Logs.Lines.Select(l => l.Message)), StringComparison.Ordinal);
        Assert.DoesNotContain("sa:emojivoto:web", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" in /", line, StringComparison.Ordinal);
        var metrics = await server.Admin.GetStringAsync("/metrics", ct);
        Assert.Matches("identity_certify_unexpected_errors_total\\{[^}]*exception_type=\"System.InvalidOperationException\"[^}]*\\} 1", metrics);
        Assert.Matches("identity_certify_requests_total\\{[^}]*grpc_code=\"Internal\"[^}]*\\} 1", metrics);
    }

    [Fact]
    public async Task One_scrape_shows_server_and_real_validator_series_after_real_certify_calls()
    {
        var now = TestServer.Now();
        using var signer = new TokenSigner(now);
        // Reloads only when the test asks, so each outcome is counted exactly once.
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false, now: now, services: s => RealValidators.AddJwks(s, signer.JwksFile));
        var ct = TestContext.Current.CancellationToken;
        var web = ServerFixtures.IdentityOf("web", "emojivoto");
        var token = signer.Token("valid", "emojivoto", "web");

        // A miss then a hit for the good token; the expired one is judged (and missed) once.
        await server.Client.CertifyAsync(TestServer.Request(web, token, TestCsr.Proxy(web)), cancellationToken: ct);
        await server.Client.CertifyAsync(TestServer.Request(web, token, TestCsr.Proxy(web)), cancellationToken: ct);
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(web, signer.Token("expired", "emojivoto", "web"), TestCsr.Proxy(web)), cancellationToken: ct));

        // A rejected reload (key of another issuer), then a good one.
        var next = new TestPki(now).Intermediate(server.Root, name: "identity-next.linkerd.cluster.local");
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, server.Issuer.KeyPem);
        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(next.Certificate.RawData, server.App.Services.GetRequiredService<IssuerStore>().Current!.Issuer.RawData);

        var scrape = Parse(await server.Admin.GetStringAsync("/metrics", ct));

        var issuerTtl = (next.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalSeconds;
        Assert.Equal(issuerTtl, Single(scrape, "issuer_cert_ttl_seconds"), 0);
        var anchorTtl = (server.Root.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalSeconds;
        Assert.Equal(anchorTtl, Single(scrape, "trust_anchor_ttl_seconds"), 0);
        Assert.Equal(2, Single(scrape, "identity_certify_requests_total", "grpc_code=\"OK\""));
        Assert.Equal(1, Single(scrape, "identity_certify_requests_total", "grpc_code=\"InvalidArgument\""));
        Assert.Equal(2, Single(scrape, "identity_certify_duration_seconds_count", "grpc_code=\"OK\""));
        Assert.InRange(Single(scrape, "identity_certify_duration_seconds_sum", "grpc_code=\"OK\""), 0, 30);
        Assert.Equal(2, Single(scrape, "identity_certificates_issued_total"));
        Assert.Equal(3, Single(scrape, "identity_token_review_duration_seconds_count"));
        Assert.InRange(Single(scrape, "identity_token_review_duration_seconds_sum"), 0, 30);
        Assert.Equal(1, Single(scrape, "identity_kubernetes_token_cache_hits_total"));
        Assert.Equal(2, Single(scrape, "identity_kubernetes_token_cache_misses_total"));
        Assert.Equal(1, Single(scrape, "identity_kubernetes_jwt_validations_total", "result=\"authenticated\""));
        Assert.Equal(1, Single(scrape, "identity_kubernetes_jwt_validations_total", "result=\"error\""));
        // The load at start and the swap succeeded; the mismatched key was refused.
        Assert.Equal(2, Single(scrape, "identity_issuer_reloads_total", "result=\"success\""));
        Assert.Equal(1, Single(scrape, "identity_issuer_reloads_total", "result=\"failure\""));
    }

    [Fact]
    public async Task One_scrape_shows_tokenreview_api_latency_and_results()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var kube = await KubernetesApi.StartAsync();
        var good = KubernetesApi.ProjectedToken("emojivoto", "web", TestServer.Now().AddHours(1));
        var revoked = KubernetesApi.ProjectedToken("emojivoto", "old", TestServer.Now().AddHours(1));
        kube.Api.OnTokenReview = (review, _) => Task.FromResult(review.Token == good
            ? FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:web", "identity.l5d.io")
            : FakeKubernetesApi.Unauthenticated());
        await using var server = await TestServer.StartAsync(services: s => RealValidators.AddTokenReview(s, kube.Kubeconfig));
        var web = ServerFixtures.IdentityOf("web", "emojivoto");

        await server.Client.CertifyAsync(TestServer.Request(web, good, TestCsr.Proxy(web)), cancellationToken: ct);
        await server.Client.CertifyAsync(TestServer.Request(web, good, TestCsr.Proxy(web)), cancellationToken: ct);
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(web, revoked, TestCsr.Proxy(web)), cancellationToken: ct));

        var scrape = Parse(await server.Admin.GetStringAsync("/metrics", ct));

        Assert.Equal(2, kube.Api.ReviewCount);
        Assert.Equal(1, Single(scrape, "identity_kubernetes_token_review_duration_seconds_count", "result=\"authenticated\""));
        Assert.Equal(1, Single(scrape, "identity_kubernetes_token_review_duration_seconds_count", "result=\"unauthenticated\""));
        Assert.InRange(Single(scrape, "identity_kubernetes_token_review_duration_seconds_sum", "result=\"authenticated\""), 0, 30);
        Assert.Equal(1, Single(scrape, "identity_kubernetes_token_reviews_total", "result=\"authenticated\""));
        Assert.Equal(1, Single(scrape, "identity_kubernetes_token_cache_hits_total"));
        Assert.Equal(1, Single(scrape, "identity_certify_requests_total", "grpc_code=\"FailedPrecondition\""));
    }

    [Fact]
    public async Task Mounted_differs_follows_the_files_and_the_issuer_gauges_describe_what_is_served()
    {
        var now = TestServer.Now();
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false, now: now);
        var ct = TestContext.Current.CancellationToken;
        async Task<string[]> Scrape() => Parse(await server.Admin.GetStringAsync("/metrics", ct));

        var scrape = await Scrape();
        Assert.Equal(0, Single(scrape, "identity_issuer_mounted_differs"));
        Assert.Equal(1, Single(scrape, "identity_issuer_valid"));
        // Series that alerts compute rate()/increase() on exist before their first event.
        Assert.Equal(0, Single(scrape, "identity_issuer_reloads_total", "result=\"failure\""));
        Assert.Equal(0, Single(scrape, "identity_certify_refused_total", "reason=\"capacity\""));
        var fingerprint = Convert.ToHexStringLower(server.Root.Certificate.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))[..16];
        var anchorTtl = (server.Root.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalSeconds;
        Assert.Equal(anchorTtl, Single(scrape, "identity_trust_anchor_ttl_seconds", $"fingerprint=\"{fingerprint}\""), 0);
        Assert.Contains($"subject=\"{server.Root.Certificate.Subject}\"", Assert.Single(scrape, l => l.StartsWith("identity_trust_anchor_ttl_seconds", StringComparison.Ordinal)), StringComparison.Ordinal);

        // A rotation whose key does not match: rejected, the old issuer is still served, the files differ from it,
        // and they keep differing on every later re-read of the same content (counted once, flagged throughout).
        var next = new TestPki(now).Intermediate(server.Root, name: "identity-next.linkerd.cluster.local");
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, server.Issuer.KeyPem);
        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(1, Single(await Scrape(), "identity_issuer_mounted_differs"));
        Assert.Equal(IssuerReloadResult.Unchanged, IdentityServerHost.ReloadIssuer(server.App));
        scrape = await Scrape();
        Assert.Equal(1, Single(scrape, "identity_issuer_mounted_differs"));
        Assert.Equal(1, Single(scrape, "identity_issuer_reloads_total", "result=\"failure\""));
        Assert.Equal(1, Single(scrape, "identity_issuer_valid"));

        // Unreadable files differ too; then the fixed rotation is served and the files match again.
        File.Delete(Path.Combine(server.IssuerDirectory, "key.pem"));
        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(1, Single(await Scrape(), "identity_issuer_mounted_differs"));
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(0, Single(await Scrape(), "identity_issuer_mounted_differs"));
    }

    [Fact]
    public async Task Issuer_valid_is_0_while_the_served_issuer_has_expired()
    {
        var now = TestServer.Now();
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false, now: now);
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(1, Single(Parse(await server.Admin.GetStringAsync("/metrics", ct)), "identity_issuer_valid"));

        server.Time.SetUtcNow(new DateTimeOffset(server.Issuer.Certificate.NotAfter.ToUniversalTime()).AddSeconds(1));
        var scrape = Parse(await server.Admin.GetStringAsync("/metrics", ct));
        Assert.Equal(0, Single(scrape, "identity_issuer_valid"));
        Assert.Equal(0, Single(scrape, "issuer_cert_ttl_seconds"));
    }

    private static string[] Parse(string exposition) =>
        exposition.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    /// <summary>The value of the one sample named <paramref name="name"/> whose labels include <paramref name="label"/>.</summary>
    private static double Single(string[] samples, string name, string? label = null)
    {
        var matches = samples.Where(l => (l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            && (label is null || l.Contains(label, StringComparison.Ordinal))).ToArray();
        Assert.True(matches.Length == 1, $"{name} {label}: {matches.Length} samples\n{string.Join("\n", samples)}");
        // A sample is "name{labels} value [timestamp]" or "name value [timestamp]".
        var sample = matches[0];
        var parts = sample[(sample.Contains('{', StringComparison.Ordinal) ? sample.LastIndexOf('}') + 1 : name.Length)..].Trim().Split(' ');
        return double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>An event sink with a bug: its message must never reach a log (it could have echoed request data).</summary>
internal sealed class ThrowingEventSink : Events.IIssuerEventSink
{
    public const string Secret = "request-derived text that must not be logged";

    public void IssuerUpdated()
    {
    }

    public void IssuerUpdateSkipped(string reason)
    {
    }

    public void IssuerValidationFailed(string reason, string requestedIdentity)
    {
    }

    public void IssuedLeafCertificate(string ns, string serviceAccount, string message) => throw new InvalidOperationException(Secret);
}
