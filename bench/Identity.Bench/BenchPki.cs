using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Cli.Demo;
using Identity.Kubernetes;

namespace Identity.Bench;

/// <summary>
/// A throw-away root, issuer and ServiceAccount token signer in <paramref name="Directory"/>, laid out as
/// <c>identity serve -issuer DIR -identity-trust-anchors-file FILE -token-validation jwks -jwks FILE</c> reads them.
/// </summary>
internal sealed record BenchPki(string Directory)
{
    public string IssuerDirectory => Path.Combine(Directory, "issuer");

    public string TrustAnchorsFile => Path.Combine(Directory, "roots.crt");

    /// <summary>The token signing key (PEM, mode 0600), for a client in another process.</summary>
    public string TokenKeyFile => Path.Combine(Directory, "sa-signer.key");

    public string JwksFile => Path.Combine(Directory, "jwks.json");

    public ServiceAccountTokenIssuer OpenTokenIssuer() => ServiceAccountTokenIssuer.LoadOrCreate(BenchSettings.DefaultTokenIssuer, TokenKeyFile);

    public static async Task<BenchPki> WriteAsync(string directory)
    {
        var pki = new BenchPki(directory);
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=bench root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var root = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(2));
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issuerRequest = new CertificateRequest("CN=identity.linkerd.cluster.local", issuerKey, HashAlgorithmName.SHA256);
        issuerRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        issuerRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        issuerRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(issuerRequest.PublicKey, false));
        using var issuer = issuerRequest.Create(root, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
        System.IO.Directory.CreateDirectory(pki.IssuerDirectory);
        await File.WriteAllTextAsync(Path.Combine(pki.IssuerDirectory, "key.pem"), issuerKey.ExportECPrivateKeyPem()).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(pki.IssuerDirectory, "crt.pem"), issuer.ExportCertificatePem()).ConfigureAwait(false);
        await File.WriteAllTextAsync(pki.TrustAnchorsFile, root.ExportCertificatePem()).ConfigureAwait(false);
        using (var tokens = pki.OpenTokenIssuer())
        {
            tokens.WriteJwks(pki.JwksFile);
        }

        return pki;
    }
}
