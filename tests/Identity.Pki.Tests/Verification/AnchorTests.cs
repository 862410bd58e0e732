using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

/// <summary>
/// Go treats every certificate in the roots pool as an anchor, self-signed or not; the platform engine only
/// trusts self-signed ones, so the verifier completes those paths itself and must still check signatures.
/// </summary>
public sealed class AnchorTests
{
    private static readonly DateTimeOffset During = VerificationPki.Start.AddHours(1);

    [Fact]
    public void An_intermediate_used_as_the_only_anchor_is_trusted()
    {
        var leaf = CertificateFile.ReadCertificates(TestPaths.StepFile("leaf-long.crt"))[0];
        var anchors = TrustBundle.Load(TestPaths.StepFile("issuer.crt"));

        var result = ChainVerifier.Verify(leaf, null, anchors, TestPaths.StepMade.AddDays(1));

        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");
        Assert.Equal(2, result.Chain.Count);
    }

    [Fact]
    public void Path_stops_at_the_first_anchor_even_when_a_root_is_also_supplied()
    {
        var root = VerificationPki.Ca.Root("Root");
        var intermediate = VerificationPki.Ca.Intermediate(root, "Intermediate", pathLength: null);
        var leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");

        var result = ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate, root.Certificate], TrustBundle.FromCertificates([intermediate.Certificate]), During);

        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");
        Assert.Equal([leaf.Certificate, intermediate.Certificate], result.Chain);
    }

    [Fact]
    public void A_forged_leaf_under_a_non_self_signed_anchor_is_rejected()
    {
        var root = VerificationPki.Ca.Root("Root");
        var intermediate = VerificationPki.Ca.Intermediate(root, "Intermediate", pathLength: null);
        var impostor = VerificationPki.Ca.Intermediate(root, "Intermediate", pathLength: null);
        var forged = VerificationPki.Ca.Leaf(impostor, "leaf.example.com", authorityKeyIdentifier: false);

        var result = ChainVerifier.Verify(forged.Certificate, null, TrustBundle.FromCertificates([intermediate.Certificate]), During);

        Assert.False(result.IsValid);
        Assert.Equal(ChainVerificationStatus.BadSignature, result.Status);
        Assert.Equal(
            "x509: certificate signed by unknown authority (possibly because of \"signature verification failed\" while trying to verify candidate authority certificate \"Intermediate\")",
            result.Error);
    }

    [Fact]
    public void An_expired_non_self_signed_anchor_is_reported_with_its_dates()
    {
        var root = VerificationPki.Ca.Root("Root");
        var intermediate = VerificationPki.Ca.Intermediate(root, "Intermediate", notAfter: VerificationPki.Start.AddMinutes(30), pathLength: null);
        var leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");

        var result = ChainVerifier.Verify(leaf.Certificate, null, TrustBundle.FromCertificates([intermediate.Certificate]), VerificationPki.Start.AddMinutes(10));
        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");

        var later = ChainVerifier.Verify(leaf.Certificate, null, TrustBundle.FromCertificates([intermediate.Certificate]), VerificationPki.Start.AddMinutes(40));
        Assert.Equal(ChainVerificationStatus.Expired, later.Status);
        Assert.Same(intermediate.Certificate, later.Certificate);
        Assert.Equal(
            "x509: certificate has expired or is not yet valid: current time 2030-01-01T00:40:00Z is after 2030-01-01T00:30:00Z",
            later.Error);
    }
}
