using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

/// <summary>
/// Path building as Go's <c>crypto/x509</c> does it, on shapes the platform chain engine gets wrong: an issuer
/// that shares its anchor's subject and carries no Authority Key Identifier (Linkerd's own <c>valid</c> install
/// fixture), name constraints, and critical extensions nobody handles.
/// </summary>
public sealed class GoPathBuildingTests
{
    private const string Name = "CN=identity.linkerd.cluster.local";
    private static readonly DateTimeOffset Start = VerificationPki.Start;
    private static readonly DateTimeOffset During = Start.AddHours(1);

    [Fact]
    public void Issuer_sharing_the_anchor_subject_without_aki_chains_to_the_anchor()
    {
        using var anchorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var anchor = Ca(Name, anchorKey, signer: null, signerKey: anchorKey, aki: false);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = Ca(Name, issuerKey, anchor, anchorKey, aki: false);
        using var leaf = VerificationPki.Ca.Leaf(new TestCredential(issuer, issuerKey), "web.default.serviceaccount.identity.linkerd.cluster.local", authorityKeyIdentifier: false);
        var anchors = TrustBundle.FromCertificates([anchor]);

        var issuerResult = ChainVerifier.Verify(issuer, null, anchors, During);
        Assert.True(issuerResult.IsValid, issuerResult.Error);
        Assert.Equal([issuer, anchor], issuerResult.Chain);

        var leafResult = ChainVerifier.Verify(leaf.Certificate, [issuer], anchors, During);
        Assert.True(leafResult.IsValid, leafResult.Error);
        Assert.Equal([leaf.Certificate, issuer, anchor], leafResult.Chain);

        // The same shapes, but the issuer is signed by a stranger that took the anchor's name: refused.
        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var forged = Ca(Name, issuerKey, anchor, strangerKey, aki: false);
        var forgedResult = ChainVerifier.Verify(forged, null, anchors, During);
        Assert.Equal(ChainVerificationStatus.BadSignature, forgedResult.Status);
    }

    [Fact]
    public void Name_constraints_on_an_issuer_are_enforced_on_the_names_below_it()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = Ca("CN=root", rootKey, signer: null, signerKey: rootKey, aki: false);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = Ca("CN=issuer", issuerKey, root, rootKey, aki: true, permittedDns: "cluster.local");
        using var inside = VerificationPki.Ca.Leaf(new TestCredential(issuer, issuerKey), "web.ns.svc.cluster.local");
        using var outside = VerificationPki.Ca.Leaf(new TestCredential(issuer, issuerKey), "web.example.org");
        var anchors = TrustBundle.FromCertificates([root]);

        Assert.True(ChainVerifier.Verify(inside.Certificate, [issuer], anchors, During).IsValid);
        var refused = ChainVerifier.Verify(outside.Certificate, [issuer], anchors, During);
        Assert.Equal(ChainVerificationStatus.Invalid, refused.Status);
        Assert.Equal(
            "x509: a root or intermediate certificate is not authorized to sign for this name: DNS name \"web.example.org\" is not permitted by any constraint",
            refused.Error);
    }

    [Fact]
    public void An_unknown_critical_extension_is_refused_as_go_refuses_it()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = Ca("CN=root", rootKey, signer: null, signerKey: rootKey, aki: false);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = Ca("CN=issuer", issuerKey, root, rootKey, aki: true, unknownCritical: true);
        using var leaf = VerificationPki.Ca.Leaf(new TestCredential(issuer, issuerKey), "web.example.org");

        var result = ChainVerifier.Verify(leaf.Certificate, [issuer], TrustBundle.FromCertificates([root]), During);

        Assert.Equal(ChainVerificationStatus.Unsupported, result.Status);
        Assert.Equal("x509: unhandled critical extension", result.Error);
        Assert.Same(issuer, result.Certificate);
    }

    private static X509Certificate2 Ca(
        string subject,
        ECDsa key,
        X509Certificate2? signer,
        ECDsa signerKey,
        bool aki,
        string? permittedDns = null,
        bool unknownCritical = false)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        if (aki && signer is not null)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(signer, true, false));
        }

        if (permittedDns is not null)
        {
            // NameConstraints { permittedSubtrees [0] { GeneralSubtree { dNSName } } }
            var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            using (writer.PushSequence())
            using (writer.PushSequence(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0, true)))
            using (writer.PushSequence())
            {
                writer.WriteCharacterString(
                    System.Formats.Asn1.UniversalTagNumber.IA5String,
                    permittedDns,
                    new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 2));
            }

            request.CertificateExtensions.Add(new X509Extension("2.5.29.30", writer.Encode(), critical: true));
        }

        if (unknownCritical)
        {
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.99999.1", [0x05, 0x00], critical: true));
        }

        var generator = X509SignatureGenerator.CreateForECDsa(signerKey);
        var issuerName = signer?.SubjectName ?? new X500DistinguishedName(subject);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var made = request.Create(issuerName, generator, Start, Start.AddYears(5), serial);
        return made.CopyWithPrivateKey(key);
    }
}
