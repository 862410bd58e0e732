using System.Globalization;
using Identity.Client.Tests.Support;
using Identity.Client.Verification;

namespace Identity.Client.Tests.Verification;

/// <summary>How the shared Pki chain verifier's outcomes become the client's failure reasons and messages.</summary>
public sealed class ChainVerifierTests
{
    private const string Identity = "web.default.serviceaccount.identity.linkerd.cluster.local";
    private static readonly DateTimeOffset Now = new(2031, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TestPki Ca = new(Now);
    private static readonly string[] Both = [ChainVerifier.ServerAuthOid, ChainVerifier.ClientAuthOid];

    [Fact]
    public void Valid_chain_yields_the_identity()
    {
        using var root = Ca.Root("root");
        using var issuer = Ca.Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddMinutes(-5), Now.AddHours(1)).CertificateWithKey();

        var result = new ChainVerifier([root.Certificate]).Verify(leaf, [issuer.Certificate], Now, Both, Identity, "leaf");

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(Identity, result.Identity);
    }

    [Fact]
    public void Expired_intermediate_is_named_in_the_message()
    {
        using var root = Ca.Root("root");
        using var issuer = new TestPki(Now.AddYears(-6)).Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddMinutes(-5), Now.AddHours(1)).CertificateWithKey();

        var result = new ChainVerifier([root.Certificate]).Verify(leaf, [issuer.Certificate], Now, Both, Identity, "leaf");

        Assert.Equal(VerificationFailure.Expired, result.Failure);
        var notAfter = issuer.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Assert.Equal($"leaf chain certificate 'CN=issuer' expired at {notAfter}", result.Message);
    }

    [Fact]
    public void Leaf_before_its_validity_is_not_yet_valid()
    {
        using var root = Ca.Root("root");
        using var issuer = Ca.Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddHours(1), Now.AddHours(2)).CertificateWithKey();

        var result = new ChainVerifier([root.Certificate]).Verify(leaf, [issuer.Certificate], Now, Both, Identity, "peer");

        Assert.Equal(VerificationFailure.NotYetValid, result.Failure);
        var notBefore = leaf.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        Assert.Equal($"peer certificate is not valid before {notBefore}", result.Message);
    }

    [Fact]
    public void Foreign_root_is_an_untrusted_chain()
    {
        using var root = Ca.Root("root");
        using var other = Ca.Root("other");
        using var issuer = Ca.Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddMinutes(-5), Now.AddHours(1)).CertificateWithKey();

        var result = new ChainVerifier([other.Certificate]).Verify(leaf, [issuer.Certificate], Now, Both, Identity, "peer");

        Assert.Equal(VerificationFailure.UntrustedChain, result.Failure);
        Assert.Equal("peer certificate does not chain to the trust anchors", result.Message);
    }

    [Fact]
    public void Leaf_without_the_required_usage_is_wrong_key_usage()
    {
        using var root = Ca.Root("root");
        using var issuer = Ca.Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddMinutes(-5), Now.AddHours(1), extendedKeyUsages: [ChainVerifier.ClientAuthOid]).CertificateWithKey();
        var verifier = new ChainVerifier([root.Certificate]);

        var asServer = verifier.Verify(leaf, [issuer.Certificate], Now, [ChainVerifier.ServerAuthOid], Identity, "peer");
        var asClient = verifier.Verify(leaf, [issuer.Certificate], Now, [ChainVerifier.ClientAuthOid], Identity, "peer");

        Assert.Equal(VerificationFailure.WrongKeyUsage, asServer.Failure);
        Assert.StartsWith("peer certificate is not valid for the required usage (serverAuth/clientAuth)", asServer.Message, StringComparison.Ordinal);
        Assert.True(asClient.Succeeded, asClient.Message);
    }

    [Fact]
    public void Another_identity_is_a_mismatch()
    {
        using var root = Ca.Root("root");
        using var issuer = Ca.Intermediate(root, "issuer");
        using var leaf = Ca.Leaf(issuer, Identity, Now.AddMinutes(-5), Now.AddHours(1)).CertificateWithKey();

        var result = new ChainVerifier([root.Certificate]).Verify(leaf, [issuer.Certificate], Now, Both, "db.default.serviceaccount.identity.linkerd.cluster.local", "peer");

        Assert.Equal(VerificationFailure.IdentityMismatch, result.Failure);
    }
}
