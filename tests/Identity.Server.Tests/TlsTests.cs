using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Identity.Server.Hosting;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Server.Tests;

public sealed class TlsTests
{
    private const string ServerIdentity = "linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local";
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    /// <summary>Like the proxy: chain to the anchors, server identity in a DNS SAN, TLS 1.3.</summary>
    private static SslClientAuthenticationOptions ClientTls(TestServer server, List<X509Certificate2> seen, bool alpn) => new()
    {
        TargetHost = ServerIdentity,
        EnabledSslProtocols = SslProtocols.Tls13,
        ApplicationProtocols = alpn ? [SslApplicationProtocol.Http2] : null,
        RemoteCertificateValidationCallback = (_, certificate, presented, _) =>
        {
            var leaf = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
            seen.Add(leaf);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(server.Root.Certificate);
            chain.ChainPolicy.ExtraStore.AddRange(presented!.ChainPolicy.ExtraStore);
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }

            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = server.Time.GetUtcNow().UtcDateTime;
            var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            return chain.Build(leaf) && san.EnumerateDnsNames().SequenceEqual([ServerIdentity]);
        },
    };

    [Fact]
    public async Task Tls_serves_self_issued_identity_certificate_and_renews_it_on_rotation()
    {
        await using var server = await TestServer.StartAsync(o => { o.Tls = true; o.WatchFiles = false; });
        var port = IdentityServerHost.GetGrpcEndpoint(server.App).Port;
        var seen = new List<X509Certificate2>();

        async Task CertifyOverTls()
        {
            using var handler = new SocketsHttpHandler { SslOptions = ClientTls(server, seen, alpn: true) };
            using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler });
            var client = new IdentityGrpc.IdentityClient(channel);
            var response = await client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
                cancellationToken: TestContext.Current.CancellationToken);
            Assert.False(response.LeafCertificate.IsEmpty);
        }

        await CertifyOverTls();
        Assert.Equal(server.Issuer.Certificate.Subject, seen[^1].Issuer);
        var aki = seen[^1].Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value;
        var ski = server.Issuer.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier!;
        Assert.Equal(Convert.FromHexString(ski), aki.ToArray());

        var next = new TestPki(server.Time.GetUtcNow()).Intermediate(server.Root, name: "identity-2.linkerd.cluster.local");
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        IdentityServerHost.ReloadIssuer(server.App);
        await CertifyOverTls();
        Assert.Equal(next.Certificate.Subject, seen[^1].Issuer);
    }

    [Fact]
    public async Task Tls_accepts_http2_without_alpn_like_the_linkerd_proxy()
    {
        await using var server = await TestServer.StartAsync(o => { o.Tls = true; o.WatchFiles = false; });
        var port = IdentityServerHost.GetGrpcEndpoint(server.App).Port;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(ClientTls(server, [], alpn: false), TestContext.Current.CancellationToken);
        Assert.Equal(SslProtocols.Tls13, tls.SslProtocol);

        // HTTP/2 connection preface and an empty SETTINGS frame; the server must answer with its SETTINGS frame.
        await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await tls.WriteAsync(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }, TestContext.Current.CancellationToken);
        var header = new byte[9];
        await tls.ReadExactlyAsync(header, TestContext.Current.CancellationToken);
        Assert.Equal(4, header[3]); // frame type SETTINGS
    }
}
