using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

public sealed class ChainVerificationOptionsTests
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private static readonly DateTimeOffset During = TestCertificates.Start.AddHours(1);

    [Fact]
    public void Required_usage_refuses_a_path_whose_intermediate_does_not_permit_it()
    {
        using var root = TestCertificates.Root("root");
        using var intermediate = TestCertificates.Intermediate(root, "client-only-ca", extendedKeyUsages: [ClientAuth]);
        using var leaf = TestCertificates.Leaf(intermediate, "web.example.com");
        var anchors = TrustBundle.FromCertificates([root]);

        Assert.True(ChainVerifier.Verify(leaf, [intermediate], anchors, During).IsValid, "no usage required");
        var serverAuth = ChainVerifier.Verify(
            leaf, [intermediate], anchors, During, host: null, new ChainVerificationOptions { RequiredUsages = [ServerAuth] });
        var clientAuth = ChainVerifier.Verify(
            leaf, [intermediate], anchors, During, host: null, new ChainVerificationOptions { RequiredUsages = [ClientAuth] });

        Assert.Equal(ChainVerificationStatus.IncompatibleUsage, serverAuth.Status);
        Assert.Equal("x509: certificate specifies an incompatible key usage", serverAuth.Error);
        Assert.Equal(3, serverAuth.Chain.Count);
        Assert.True(clientAuth.IsValid, clientAuth.Error);
    }

    [Fact]
    public void Unknown_authority_is_reported_before_usage_as_go_does()
    {
        using var root = TestCertificates.Root("root");
        using var other = TestCertificates.Root("other");
        using var intermediate = TestCertificates.Intermediate(root, "client-only-ca", extendedKeyUsages: [ClientAuth]);
        using var leaf = TestCertificates.Leaf(intermediate, "web.example.com");

        var result = ChainVerifier.Verify(
            leaf, [intermediate], TrustBundle.FromCertificates([other]), During, host: null,
            new ChainVerificationOptions { RequiredUsages = [ServerAuth] });

        Assert.Equal(ChainVerificationStatus.UnknownAuthority, result.Status);
    }

    [Fact]
    public void Ignoring_time_validity_accepts_an_expired_path_and_still_checks_the_rest()
    {
        using var root = TestCertificates.Root("root");
        using var other = TestCertificates.Root("other");
        using var intermediate = TestCertificates.Intermediate(root, "ca", notAfter: TestCertificates.Start.AddDays(2));
        using var leaf = TestCertificates.Leaf(intermediate, "web.example.com");
        var anchors = TrustBundle.FromCertificates([root]);
        var later = TestCertificates.Start.AddDays(30);
        var ignoreTime = new ChainVerificationOptions { IgnoreTimeValidity = true };

        Assert.Equal(ChainVerificationStatus.Expired, ChainVerifier.Verify(leaf, [intermediate], anchors, later).Status);
        var ignored = ChainVerifier.Verify(leaf, [intermediate], anchors, later, host: null, ignoreTime);
        Assert.True(ignored.IsValid, ignored.Error);
        Assert.Equal(3, ignored.Chain.Count);

        var foreign = ChainVerifier.Verify(leaf, [intermediate], TrustBundle.FromCertificates([other]), later, host: null, ignoreTime);
        Assert.Equal(ChainVerificationStatus.UnknownAuthority, foreign.Status);
    }
}
