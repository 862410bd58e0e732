using System.Security.Authentication;
using Identity.Client.Tests.Support;
using Identity.Client.Tls;
using Identity.Client.Verification;

namespace Identity.Client.Tests.Tls;

public sealed class MeshTlsTests
{
    [Fact]
    public async Task Mtls_between_west_and_east_issuers_under_one_root_succeeds_and_both_sides_see_the_peer()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));

        var (s, c) = await Handshake.RunAsync(server, requireClientCertificate: true, client, MeshPki.EastIdentity);

        Assert.Null(s.Error);
        Assert.Null(c.Error);
        Assert.Equal(MeshPki.WestIdentity, s.Result!.Identity);
        Assert.Equal(MeshPki.EastIdentity, c.Result!.Identity);
        Assert.True(s.Result.Succeeded);
    }

    [Fact]
    public async Task Server_refuses_a_client_from_a_foreign_root()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var foreign = new MeshTls(new MutableCredentials(pki.Issue(pki.ForeignIssuer, MeshPki.WestIdentity)), [pki.Root.Certificate]);

        var (s, _) = await Handshake.RunAsync(server, requireClientCertificate: true, foreign, MeshPki.EastIdentity);

        Assert.IsType<AuthenticationException>(s.Error);
        Assert.Equal("peer certificate does not chain to the trust anchors", s.Error.Message);
        Assert.Equal(VerificationFailure.UntrustedChain, s.Result!.Failure);
    }

    [Fact]
    public async Task Client_refuses_a_server_from_a_foreign_root()
    {
        using var pki = new MeshPki();
        var server = new MeshTls(new MutableCredentials(pki.Issue(pki.ForeignIssuer, MeshPki.EastIdentity)), [pki.ForeignRoot.Certificate]);
        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));

        var (_, c) = await Handshake.RunAsync(server, requireClientCertificate: false, client, MeshPki.EastIdentity);

        Assert.IsType<AuthenticationException>(c.Error);
        Assert.Equal("peer certificate does not chain to the trust anchors", c.Error.Message);
    }

    [Fact]
    public async Task Client_refuses_an_expired_server_leaf()
    {
        using var pki = new MeshPki();
        var expired = pki.Issue(pki.East, MeshPki.EastIdentity, pki.Now.AddDays(-2), pki.Now.AddDays(-1));
        var server = pki.Tls(new MutableCredentials(expired));
        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));

        var (_, c) = await Handshake.RunAsync(server, requireClientCertificate: false, client, MeshPki.EastIdentity);

        Assert.IsType<AuthenticationException>(c.Error);
        Assert.StartsWith("peer certificate expired at ", c.Error.Message, StringComparison.Ordinal);
        Assert.Equal(VerificationFailure.Expired, c.Result!.Failure);
    }

    [Fact]
    public async Task Server_refuses_an_expired_client_leaf()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var expired = pki.Issue(pki.West, MeshPki.WestIdentity, pki.Now.AddDays(-2), pki.Now.AddDays(-1));
        var client = pki.Tls(new MutableCredentials(expired));

        var (s, _) = await Handshake.RunAsync(server, requireClientCertificate: true, client, MeshPki.EastIdentity);

        Assert.StartsWith("peer certificate expired at ", s.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_refuses_a_server_with_another_identity()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));
        const string expected = "books.test.serviceaccount.identity.linkerd.cluster.local";

        var (_, c) = await Handshake.RunAsync(server, requireClientCertificate: true, client, expected);

        Assert.Equal($"peer identity {MeshPki.EastIdentity} does not match expected {expected}", c.Error!.Message);
        Assert.Equal(VerificationFailure.IdentityMismatch, c.Result!.Failure);
    }

    [Fact]
    public async Task Server_requiring_a_client_certificate_refuses_a_client_without_one()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var anonymous = pki.Tls(new MutableCredentials(null));

        var (s, c) = await Handshake.RunAsync(server, requireClientCertificate: true, anonymous, MeshPki.EastIdentity);

        Assert.Equal("client certificate required", s.Error!.Message);
        Assert.Equal(VerificationFailure.ClientCertificateRequired, s.Result!.Failure);
        Assert.NotNull(c.Error); // TLS 1.3: the client learns of the refusal on its first read
    }

    [Fact]
    public async Task Server_with_optional_client_certificates_accepts_an_unauthenticated_client()
    {
        using var pki = new MeshPki();
        var server = pki.Tls(new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity)));
        var anonymous = pki.Tls(new MutableCredentials(null));

        var (s, c) = await Handshake.RunAsync(server, requireClientCertificate: false, anonymous, MeshPki.EastIdentity);

        Assert.Null(s.Error);
        Assert.Null(c.Error);
        Assert.Null(s.Result!.Identity);
        Assert.Equal(MeshPki.EastIdentity, c.Result!.Identity);
    }

    [Fact]
    public async Task Client_refuses_a_server_leaf_without_server_auth()
    {
        using var pki = new MeshPki();
        var clientOnly = WorkloadCredentials.Create(
            new TestPki(pki.Now).Leaf(pki.East, MeshPki.EastIdentity, pki.Now.AddMinutes(-5), pki.Now.AddHours(1), extendedKeyUsages: ["1.3.6.1.5.5.7.3.2"]).CertificateWithKey(),
            [pki.East.Certificate]);
        var server = pki.Tls(new MutableCredentials(clientOnly));
        var client = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));

        var (_, c) = await Handshake.RunAsync(server, requireClientCertificate: false, client, MeshPki.EastIdentity);

        Assert.Equal(VerificationFailure.WrongKeyUsage, c.Result!.Failure);
    }

    [Fact]
    public async Task Renewed_credentials_are_presented_by_the_next_handshake_without_restart()
    {
        using var pki = new MeshPki();
        var serverCreds = new MutableCredentials(pki.Issue(pki.East, MeshPki.EastIdentity));
        var clientCreds = new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity));
        var server = pki.Tls(serverCreds);
        var client = pki.Tls(clientCreds);

        var (s1, c1) = await Handshake.RunAsync(server, true, client, MeshPki.EastIdentity);
        var oldServer = serverCreds.Current!.Certificate.GetCertHashString();
        var oldClient = clientCreds.Current!.Certificate.GetCertHashString();
        serverCreds.Current = pki.Issue(pki.East, MeshPki.EastIdentity);
        clientCreds.Current = pki.Issue(pki.West, MeshPki.WestIdentity);
        var (s2, c2) = await Handshake.RunAsync(server, true, client, MeshPki.EastIdentity);

        Assert.Equal(oldServer, c1.RemoteThumbprint);
        Assert.Equal(oldClient, s1.RemoteThumbprint);
        Assert.Equal(serverCreds.Current.Certificate.GetCertHashString(), c2.RemoteThumbprint);
        Assert.Equal(clientCreds.Current.Certificate.GetCertHashString(), s2.RemoteThumbprint);
    }

    [Fact]
    public void Server_options_need_credentials()
    {
        using var pki = new MeshPki();
        var tls = pki.Tls(new MutableCredentials(null));

        var ex = Assert.Throws<InvalidOperationException>(() => tls.CreateServerOptions(requireClientCertificate: true));
        Assert.Contains("no workload certificate yet", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_tls13_only_without_resumption()
    {
        using var pki = new MeshPki();
        var tls = pki.Tls(new MutableCredentials(pki.Issue(pki.West, MeshPki.WestIdentity)));

        var client = tls.CreateClientOptions(MeshPki.EastIdentity);
        var server = tls.CreateServerOptions(true);

        Assert.Equal(SslProtocols.Tls13, client.EnabledSslProtocols);
        Assert.Equal(SslProtocols.Tls13, server.EnabledSslProtocols);
        Assert.False(client.AllowTlsResume);
        Assert.False(server.AllowTlsResume);
        Assert.Equal(MeshPki.EastIdentity, client.TargetHost);
        Assert.Single(server.ServerCertificateContext!.IntermediateCertificates);
    }
}
