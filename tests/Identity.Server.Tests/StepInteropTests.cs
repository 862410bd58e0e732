using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace Identity.Server.Tests;

/// <summary>Issuers made by the real <c>step</c> CLI (tests/testdata/step), at a fake time inside their validity.</summary>
public sealed class StepInteropTests
{
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    private static async Task<TestServer> StartWithStepIssuer(string issuer, string root)
    {
        var step = TestPaths.StepDirectory;
        var issuerCert = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(step, $"{issuer}.crt"));
        var at = new DateTimeOffset(issuerCert.NotBefore.ToUniversalTime()).AddHours(1);
        var server = await TestServer.StartAsync(o => o.WatchFiles = false, writeIssuer: false, now: at);
        File.Copy(Path.Combine(step, $"{root}.crt"), server.AnchorsFile, overwrite: true);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory,
            File.ReadAllText(Path.Combine(step, $"{issuer}.crt")), File.ReadAllText(Path.Combine(step, $"{issuer}.key")));
        Hosting.IdentityServerHost.ReloadIssuer(server.App);
        return server;
    }

    [Fact]
    public async Task Step_intermediate_ca_issues_leaves_that_chain_to_step_root()
    {
        await using var server = await StartWithStepIssuer("issuer", "root");
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);

        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("root.crt")));
        chain.ChainPolicy.ExtraStore.Add(X509CertificateLoader.LoadCertificate(response.IntermediateCertificates[0].ToByteArray()));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = server.Time.GetUtcNow().UtcDateTime;
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal("CN=identity.linkerd.cluster.local", leaf.Issuer);
    }

    [Fact]
    public async Task Step_rsa_root_with_ec_issuer_issues_like_linkerds_rsa_ca_test()
    {
        await using var server = await StartWithStepIssuer("rsa-issuer", "rsa-root");
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(response.LeafCertificate.IsEmpty);
    }

    [Fact]
    public async Task Rsa_issuer_key_loads_but_certify_fails_internal_like_linkerd()
    {
        var now = TestServer.Now();
        var root = new TestPki(now).Root(pathLength: 1);
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=rsa issuer", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var cert = request.Create(root.Certificate.SubjectName,
            root.SignatureGenerator(), now.AddHours(-1), now.AddDays(30), [1, 2, 3, 4, 5, 6, 7, 8]);
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false, writeIssuer: false, now: now, root: root);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, cert.ExportCertificatePem(), rsa.ExportRSAPrivateKeyPem());
        Assert.Equal(Issuance.IssuerReloadResult.Updated, Hosting.IdentityServerHost.ReloadIssuer(server.App));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("x509: requested SignatureAlgorithm does not match private key type", error.Status.Detail);
        Assert.Equal(0, server.Events.Issued);
    }

    [Fact]
    public async Task Self_signed_root_as_issuer_like_default_linkerd_install()
    {
        var now = TestServer.Now();
        var root = new TestPki(now).Root("identity.linkerd.cluster.local", notAfter: now + TimeSpan.FromDays(365), pathLength: 1);
        await using var server = await TestServer.StartAsync(issuer: root, root: root, now: now);
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(root.Certificate.RawData, Assert.Single(response.IntermediateCertificates).ToByteArray());
    }
}
