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
        var web = TestPki.IdentityOf("web", "emojivoto");
        await server.Client.CertifyAsync(TestServer.Request(web, "sa:emojivoto:web", TestPki.ProxyCsr(web)), cancellationToken: ct);
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await server.Client.CertifyAsync(TestServer.Request(web, "unauth", TestPki.ProxyCsr(web)), cancellationToken: ct));

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
}
