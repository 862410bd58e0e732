using Identity.Pki.Keys;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Check;

/// <summary>
/// The raw PEM text of one control plane's identity credentials, wherever it came from (files, a Secret and a
/// ConfigMap). A null text is a missing input, described in <see cref="Problems"/>.
/// </summary>
/// <param name="AnchorsPem">The trust-anchor bundle.</param>
/// <param name="AnchorsSource">Where the anchors came from, for messages (a path or object/key).</param>
/// <param name="IssuerCertificatePem">The issuer certificate file: issuer first, then its chain.</param>
/// <param name="IssuerCertificateSource">Where the issuer certificate came from.</param>
/// <param name="IssuerKeyPem">The issuer private key; never printed.</param>
/// <param name="IssuerKeySource">Where the key came from.</param>
/// <param name="Problems">Inputs that could not be found or read.</param>
internal sealed record IdentityMaterial(
    string? AnchorsPem,
    string AnchorsSource,
    string? IssuerCertificatePem,
    string IssuerCertificateSource,
    string? IssuerKeyPem,
    string IssuerKeySource,
    IReadOnlyList<string> Problems);

/// <summary>Parsed credentials; owns the certificates and the key.</summary>
internal sealed class LoadedIdentity : IDisposable
{
    public LoadedIdentity(
        IReadOnlyList<X509Certificate2> anchors,
        X509Certificate2 issuer,
        IReadOnlyList<X509Certificate2> issuerChain,
        PrivateKey issuerKey)
    {
        Anchors = anchors;
        Issuer = issuer;
        IssuerChain = issuerChain;
        IssuerKey = issuerKey;
    }

    public IReadOnlyList<X509Certificate2> Anchors { get; }

    public X509Certificate2 Issuer { get; }

    /// <summary>The certificates after the issuer in its file, used as intermediates.</summary>
    public IReadOnlyList<X509Certificate2> IssuerChain { get; }

    public PrivateKey IssuerKey { get; }

    public void Dispose()
    {
        foreach (var certificate in Anchors.Concat(IssuerChain).Append(Issuer))
        {
            certificate.Dispose();
        }

        IssuerKey.Dispose();
    }
}
