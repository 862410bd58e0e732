using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

/// <summary>
/// Root rotation puts an old and a new root side by side, often with the same name. Each chain must verify
/// against the root that really signed it, whichever comes first in the bundle.
/// </summary>
public sealed class RotationTests
{
    private static readonly DateTimeOffset During = TestCertificates.Start.AddHours(1);

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Same_named_old_and_new_roots_both_anchor_their_own_chains(bool authorityKeyId, bool newFirst)
    {
        var oldRoot = TestCertificates.Root("root.linkerd.cluster.local");
        var newRoot = TestCertificates.Root("root.linkerd.cluster.local");
        var oldLeaf = TestCertificates.Leaf(oldRoot, "old.example.com", authorityKeyId: authorityKeyId);
        var newLeaf = TestCertificates.Leaf(newRoot, "new.example.com", authorityKeyId: authorityKeyId);
        var bundle = TrustBundle.FromCertificates(newFirst ? [newRoot, oldRoot] : [oldRoot, newRoot]);

        var oldResult = ChainVerifier.Verify(oldLeaf, null, bundle, During);
        var newResult = ChainVerifier.Verify(newLeaf, null, bundle, During);

        Assert.True(oldResult.IsValid, $"old: {oldResult.Status}: {oldResult.Error}");
        Assert.True(newResult.IsValid, $"new: {newResult.Status}: {newResult.Error}");
        Assert.Same(oldRoot, oldResult.Chain[^1]);
        Assert.Same(newRoot, newResult.Chain[^1]);
    }

    [Fact]
    public void Same_named_intermediates_are_both_tried()
    {
        var root = TestCertificates.Root("root");
        var oldIssuer = TestCertificates.Intermediate(root, "identity.linkerd.cluster.local");
        var newIssuer = TestCertificates.Intermediate(root, "identity.linkerd.cluster.local");
        var leaf = TestCertificates.Leaf(newIssuer, "web.example.com", authorityKeyId: false);
        var anchors = TrustBundle.FromCertificates([root]);

        var result = ChainVerifier.Verify(leaf, [oldIssuer, newIssuer], anchors, During);

        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");
        Assert.Equal([leaf, newIssuer, root], result.Chain);

        var forged = TestCertificates.Leaf(TestCertificates.Intermediate(root, "identity.linkerd.cluster.local"), "web.example.com", authorityKeyId: false);
        var rejected = ChainVerifier.Verify(forged, [oldIssuer, newIssuer], anchors, During);
        Assert.Equal(ChainVerificationStatus.BadSignature, rejected.Status);
    }
}
