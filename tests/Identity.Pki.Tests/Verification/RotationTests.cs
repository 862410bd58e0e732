using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

/// <summary>
/// Root rotation puts an old and a new root side by side, often with the same name. Each chain must verify
/// against the root that really signed it, whichever comes first in the bundle.
/// </summary>
public sealed class RotationTests
{
    private static readonly DateTimeOffset During = VerificationPki.Start.AddHours(1);

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Same_named_old_and_new_roots_both_anchor_their_own_chains(bool authorityKeyId, bool newFirst)
    {
        var oldRoot = VerificationPki.Ca.Root("root.linkerd.cluster.local");
        var newRoot = VerificationPki.Ca.Root("root.linkerd.cluster.local");
        var oldLeaf = VerificationPki.Ca.Leaf(oldRoot, "old.example.com", authorityKeyIdentifier: authorityKeyId);
        var newLeaf = VerificationPki.Ca.Leaf(newRoot, "new.example.com", authorityKeyIdentifier: authorityKeyId);
        var bundle = TrustBundle.FromCertificates(newFirst ? [newRoot.Certificate, oldRoot.Certificate] : [oldRoot.Certificate, newRoot.Certificate]);

        var oldResult = ChainVerifier.Verify(oldLeaf.Certificate, null, bundle, During);
        var newResult = ChainVerifier.Verify(newLeaf.Certificate, null, bundle, During);

        Assert.True(oldResult.IsValid, $"old: {oldResult.Status}: {oldResult.Error}");
        Assert.True(newResult.IsValid, $"new: {newResult.Status}: {newResult.Error}");
        Assert.Same(oldRoot.Certificate, oldResult.Chain[^1]);
        Assert.Same(newRoot.Certificate, newResult.Chain[^1]);
    }

    [Fact]
    public void Same_named_intermediates_are_both_tried()
    {
        var root = VerificationPki.Ca.Root("root");
        var oldIssuer = VerificationPki.Ca.Intermediate(root, "identity.linkerd.cluster.local", pathLength: null);
        var newIssuer = VerificationPki.Ca.Intermediate(root, "identity.linkerd.cluster.local", pathLength: null);
        var leaf = VerificationPki.Ca.Leaf(newIssuer, "web.example.com", authorityKeyIdentifier: false);
        var anchors = TrustBundle.FromCertificates([root.Certificate]);

        var result = ChainVerifier.Verify(leaf.Certificate, [oldIssuer.Certificate, newIssuer.Certificate], anchors, During);

        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");
        Assert.Equal([leaf.Certificate, newIssuer.Certificate, root.Certificate], result.Chain);

        var forged = VerificationPki.Ca.Leaf(VerificationPki.Ca.Intermediate(root, "identity.linkerd.cluster.local", pathLength: null), "web.example.com", authorityKeyIdentifier: false);
        var rejected = ChainVerifier.Verify(forged.Certificate, [oldIssuer.Certificate, newIssuer.Certificate], anchors, During);
        Assert.Equal(ChainVerificationStatus.BadSignature, rejected.Status);
    }
}
