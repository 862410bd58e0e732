using System.Net.Security;
using Identity.Client.Tests.Support;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Hosting;

namespace Identity.Client.Tests;

/// <summary>Certify over TLS: the identity service is served by Kestrel with mesh TLS options (as its sidecar would).</summary>
public sealed class CertifyTlsTests
{
    private const string ServerIdentity = "linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Certify_over_tls_verifies_the_server_identity_against_the_anchors()
    {
        await using var h = await StartTlsAsync();
        var client = h.CreateClient(o => o.ServerIdentity = ServerIdentity);

        var creds = await client.CertifyAsync(Ct);

        Assert.Equal(Harness.LocalIdentity, creds.Identity);
        Assert.Equal("https", h.Server.Address.Scheme);
    }

    [Fact]
    public async Task Certify_over_tls_refuses_a_server_with_another_identity()
    {
        await using var h = await StartTlsAsync();
        var client = h.CreateClient(o => o.ServerIdentity = "impostor.linkerd.serviceaccount.identity.linkerd.cluster.local");

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.ServerNotTrusted, ex.Reason);
        Assert.Equal($"identity service refused: peer identity {ServerIdentity} does not match expected impostor.linkerd.serviceaccount.identity.linkerd.cluster.local", ex.Message);
        Assert.Empty(h.Server.Seen);
    }

    [Fact]
    public async Task Certify_over_tls_refuses_a_server_from_a_foreign_root()
    {
        await using var h = await StartTlsAsync(foreign: true);
        var client = h.CreateClient(o => o.ServerIdentity = ServerIdentity);

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.ServerNotTrusted, ex.Reason);
        Assert.Equal("identity service refused: peer certificate does not chain to the trust anchors", ex.Message);
        Assert.Empty(h.Server.Seen);
    }

    [Fact]
    public async Task Certify_through_a_tls_terminator_that_negotiates_no_alpn_works()
    {
        await using var h = await Harness.StartAsync();
        var now = DateTimeOffset.UtcNow;
        var proxyCreds = WorkloadCredentials.Create(new TestPki(now).Leaf(h.Issuer, ServerIdentity, now.AddMinutes(-5), now.AddHours(1)).CertificateWithKey(), [h.Issuer.Certificate]);
        await using var relay = new TlsRelay(new Identity.Client.Tls.MeshTls(new MutableCredentials(proxyCreds), [h.Root.Certificate]), h.Server.Address);
        relay.Start();
        var client = h.CreateClient(o =>
        {
            o.Address = new Uri("https://127.0.0.1:" + relay.Port);
            o.ServerIdentity = ServerIdentity;
        });

        var first = await client.CertifyAsync(Ct);
        await client.CertifyAsync(Ct);

        Assert.Equal(Harness.LocalIdentity, first.Identity);
        Assert.Equal(string.Empty, Assert.Single(relay.NegotiatedAlpn));
        Assert.Null(Assert.Single(relay.Clients).Identity); // before the first certificate there is nothing to present
        Assert.Equal(2, h.Server.Seen.Count);
    }

    private static Task<Harness> StartTlsAsync(bool foreign = false) =>
        Harness.StartAsync(h => listen =>
        {
            // The harness's issuer signs the server's certificate, unless the test wants a stranger.
            var issuer = foreign ? h.Track(new TestPki(h.Time).Root("foreign")) : h.Issuer;
            var now = DateTimeOffset.UtcNow;
            var creds = WorkloadCredentials.Create(new TestPki(now).Leaf(issuer, ServerIdentity, now.AddMinutes(-5), now.AddHours(1)).CertificateWithKey(), [issuer.Certificate]);
            var tls = new Identity.Client.Tls.MeshTls(new MutableCredentials(creds), [issuer.Certificate]);
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = async ctx =>
                {
                    var options = await tls.SelectServerOptionsAsync(requireClientCertificate: false, ctx.CancellationToken);
                    // Kestrel needs ALPN h2 on an HTTP/2-only TLS endpoint; our client offers it.
                    options.ApplicationProtocols = [SslApplicationProtocol.Http2];
                    return options;
                },
            });
        });
}
