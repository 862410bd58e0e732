using Identity.Pki.Verification;
using Identity.Server.Hosting;
using Identity.Server.Issuance;
using Identity.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests;

/// <summary>The loader's verdict on issuers shaped like Linkerd's install fixtures (see <see cref="LinkerdInstallCases"/>).</summary>
public sealed class LinkerdInstallCaseTests
{
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    [Theory]
    [InlineData(LinkerdInstallCases.Valid)]
    [InlineData(LinkerdInstallCases.ValidWithRsaAnchor)]
    public async Task Valid_cases_are_served_and_the_leaves_chain_through_the_issuer_to_the_anchor(string name)
    {
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false);
        var (anchor, issuer) = LinkerdInstallCases.Create(name, new TestPki(server.Time));
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, issuer.CertificatePem, issuer.KeyPem);
        File.WriteAllText(server.AnchorsFile, anchor.CertificatePem);

        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(issuer.Certificate.Thumbprint, server.App.Services.GetRequiredService<IssuerStore>().Current!.Issuer.Thumbprint);

        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        using var leaf = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        using var served = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(response.IntermediateCertificates[0].ToByteArray());
        var chain = ChainVerifier.Verify(leaf, [served], TrustBundle.FromCertificates([anchor.Certificate]), server.Time.GetUtcNow(), Web);
        Assert.True(chain.IsValid, chain.Error);
        Assert.Equal([leaf.Thumbprint, issuer.Certificate.Thumbprint, anchor.Certificate.Thumbprint], chain.Chain.Select(c => c.Thumbprint));
    }

    [Theory]
    [InlineData(LinkerdInstallCases.Expired, "x509: certificate has expired or is not yet valid: current time {now} is after {-5}")]
    [InlineData(LinkerdInstallCases.NotValidYet, "x509: certificate has expired or is not yet valid: current time {now} is before {+5}")]
    [InlineData(LinkerdInstallCases.WrongAlgorithm, "failed to validate issuer credentials: must use P-256 curve for public key, instead P-521 was used")]
    public async Task Invalid_cases_are_refused_with_linkerds_reason_and_the_old_issuer_kept(string name, string reason)
    {
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false);
        var now = server.Time.GetUtcNow();
        var (anchor, issuer) = LinkerdInstallCases.Create(name, new TestPki(server.Time));
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, issuer.CertificatePem, issuer.KeyPem);
        File.WriteAllText(server.AnchorsFile, anchor.CertificatePem);

        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(server.Issuer.Certificate.Thumbprint, server.App.Services.GetRequiredService<IssuerStore>().Current!.Issuer.Thumbprint);
        var expected = reason.Replace("{now}", T(now), StringComparison.Ordinal)
            .Replace("{-5}", T(now.AddDays(-5)), StringComparison.Ordinal)
            .Replace("{+5}", T(now.AddDays(5)), StringComparison.Ordinal);
        Assert.Contains(server.Events.Events, e => e.StartsWith("IssuerUpdateSkipped", StringComparison.Ordinal) && e.Contains(expected, StringComparison.Ordinal));
    }

    private static string T(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
