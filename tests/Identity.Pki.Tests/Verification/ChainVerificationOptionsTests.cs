using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

public sealed class ChainVerificationOptionsTests
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private static readonly DateTimeOffset During = VerificationPki.Start.AddHours(1);

    [Fact]
    public void Required_usage_refuses_a_path_whose_intermediate_does_not_permit_it()
    {
        using var root = VerificationPki.Ca.Root("root");
        using var intermediate = VerificationPki.Ca.Intermediate(root, "client-only-ca", extendedKeyUsages: [ClientAuth], pathLength: null);
        using var leaf = VerificationPki.Ca.Leaf(intermediate, "web.example.com");
        var anchors = TrustBundle.FromCertificates([root.Certificate]);

        Assert.True(ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, During).IsValid, "no usage required");
        var serverAuth = ChainVerifier.Verify(
            leaf.Certificate, [intermediate.Certificate], anchors, During, host: null, new ChainVerificationOptions { RequiredUsages = [ServerAuth] });
        var clientAuth = ChainVerifier.Verify(
            leaf.Certificate, [intermediate.Certificate], anchors, During, host: null, new ChainVerificationOptions { RequiredUsages = [ClientAuth] });

        Assert.Equal(ChainVerificationStatus.IncompatibleUsage, serverAuth.Status);
        Assert.Equal("x509: certificate specifies an incompatible key usage", serverAuth.Error);
        Assert.Equal(3, serverAuth.Chain.Count);
        Assert.True(clientAuth.IsValid, clientAuth.Error);
    }

    [Fact]
    public void Unknown_authority_is_reported_before_usage_as_go_does()
    {
        using var root = VerificationPki.Ca.Root("root");
        using var other = VerificationPki.Ca.Root("other");
        using var intermediate = VerificationPki.Ca.Intermediate(root, "client-only-ca", extendedKeyUsages: [ClientAuth], pathLength: null);
        using var leaf = VerificationPki.Ca.Leaf(intermediate, "web.example.com");

        var result = ChainVerifier.Verify(
            leaf.Certificate, [intermediate.Certificate], TrustBundle.FromCertificates([other.Certificate]), During, host: null,
            new ChainVerificationOptions { RequiredUsages = [ServerAuth] });

        Assert.Equal(ChainVerificationStatus.UnknownAuthority, result.Status);
    }

    [Fact]
    public void Ignoring_time_validity_accepts_an_expired_path_and_still_checks_the_rest()
    {
        using var root = VerificationPki.Ca.Root("root");
        using var other = VerificationPki.Ca.Root("other");
        using var intermediate = VerificationPki.Ca.Intermediate(root, "ca", notAfter: VerificationPki.Start.AddDays(2), pathLength: null);
        using var leaf = VerificationPki.Ca.Leaf(intermediate, "web.example.com");
        var anchors = TrustBundle.FromCertificates([root.Certificate]);
        var later = VerificationPki.Start.AddDays(30);
        var ignoreTime = new ChainVerificationOptions { IgnoreTimeValidity = true };

        Assert.Equal(ChainVerificationStatus.Expired, ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, later).Status);
        var ignored = ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, later, host: null, ignoreTime);
        Assert.True(ignored.IsValid, ignored.Error);
        Assert.Equal(3, ignored.Chain.Count);

        var foreign = ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], TrustBundle.FromCertificates([other.Certificate]), later, host: null, ignoreTime);
        Assert.Equal(ChainVerificationStatus.UnknownAuthority, foreign.Status);
    }
}
