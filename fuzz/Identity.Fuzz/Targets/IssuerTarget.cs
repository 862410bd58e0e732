using System.Security.Cryptography.X509Certificates;
using Identity.Server;
using Identity.Server.Issuance;

namespace Identity.Fuzz.Targets;

/// <summary>
/// The issuer loader: an issuer Secret's crt.pem and key.pem plus the trust anchors. Input:
/// <c>crt \0 key \0 anchors</c>. Contract: a snapshot or <see cref="IssuerLoadException"/>; an accepted issuer is a
/// CA whose key is the key file's, valid now, chaining to the anchors, and it signs leaves that verify.
/// </summary>
internal sealed class IssuerTarget : FuzzTarget
{
    private static readonly IdentityServerOptions Options = new()
    {
        ControllerNamespace = FuzzServer.ControllerNamespace,
        TrustDomain = FuzzServer.TrustDomain,
        IssuerDirectory = "/var/run/linkerd/identity/issuer",
        TrustAnchorsFile = "/var/run/linkerd/identity/trust-roots/ca-bundle.crt",
    };

    public override string Name => "issuer";

    public override string Description => "issuer loader (crt.pem, key.pem, trust anchors) and a leaf signed with what it accepts";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var fields = Contract.Split(input, 0, 3);
        IssuerSnapshot snapshot;
        try
        {
            snapshot = IssuerLoader.Load(new IssuerFiles(fields[0], fields[1], fields[2]), Options, FuzzServer.Now);
        }
        catch (IssuerLoadException)
        {
            return;
        }

        Contract.That(snapshot.Issuer.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, "accepted an issuer that is not a CA");
        Contract.That(IssuerLoader.CheckValidity(snapshot, FuzzServer.Now) is null, "accepted an issuer that is not valid now");
        Contract.That(snapshot.Anchors.Count > 0, "accepted an issuer without anchors");
        var identity = FuzzServer.IdentityOf("ns", "sa");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var (notBefore, notAfter) = LeafIssuer.Window(snapshot, FuzzServer.Now, TimeSpan.FromHours(24), TimeSpan.FromSeconds(20));
        IssuedLeaf leaf;
        try
        {
            leaf = LeafIssuer.Issue(snapshot, identity, key.ExportSubjectPublicKeyInfo(), notBefore, notAfter);
        }
        catch (System.Security.Cryptography.CryptographicException e) when (snapshot.Key is not System.Security.Cryptography.ECDsa)
        {
            // Linkerd loads an RSA issuer and then fails every signature; so do we, with its message.
            Contract.That(e.Message == "x509: requested SignatureAlgorithm does not match private key type", e.Message);
            return;
        }

        using var certificate = X509CertificateLoader.LoadCertificate(leaf.Der);
        var chain = Pki.Verification.ChainVerifier.Verify(certificate, [snapshot.Issuer, .. snapshot.FileChain],
            Pki.Verification.TrustBundle.FromCertificates(snapshot.Anchors), FuzzServer.Now);
        Contract.That(chain.IsValid, $"a leaf from an accepted issuer does not chain to the anchors: {chain.Error}");
    }
}
