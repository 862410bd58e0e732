using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Pem = Identity.Pki.Certificates.CertificatePem;

namespace Identity.Cli.Demo;

/// <summary>A CA made for the demo with the same code as <c>identity cert create</c> (step's profiles).</summary>
internal sealed class DemoCa : IDisposable
{
    /// <summary>The seed guide's issuer subject, shared by every cluster's issuer.</summary>
    public const string IssuerCommonName = "identity.linkerd.cluster.local";

    /// <summary>The seed guide's <c>--not-after 8760h</c> for issuers.</summary>
    public static readonly TimeSpan IssuerValidity = TimeSpan.FromHours(8760);

    private DemoCa(string label, X509Certificate2 certificate, PrivateKey key)
    {
        Label = label;
        Certificate = certificate;
        Key = key;
        SubjectKeyId = Convert.ToHexString(StepCertificateFactory.SubjectKeyId(certificate) ?? []);
    }

    /// <summary>What the demo calls this CA in its output (e.g. "east issuer #1").</summary>
    public string Label { get; }

    public X509Certificate2 Certificate { get; }

    public PrivateKey Key { get; }

    /// <summary>Hex SKI, matched against the AKI of the leaves it signs.</summary>
    public string SubjectKeyId { get; }

    public string CertificatePem => Pem.Write(Certificate);

    public string KeyPem => PrivateKeyPem.Write(Key, password: null);

    /// <summary><c>step certificate create CN root.crt root.key --profile root-ca --no-password --insecure</c>.</summary>
    public static DemoCa CreateRoot(string label, string commonName, DateTimeOffset now)
    {
        var key = PrivateKey.Generate(KeySpec.Default);
        var template = new CertificateTemplate(StepProfile.RootCa, commonName, [], key.ExportSubjectPublicKeyInfo(),
            now, now + StepProfile.RootCa.DefaultValidity());
        return new DemoCa(label, StepCertificateFactory.Create(template, key, issuer: null), key);
    }

    /// <summary><c>step certificate create identity.linkerd.cluster.local issuer.crt issuer.key --profile intermediate-ca --not-after 8760h --ca root.crt --ca-key root.key</c>.</summary>
    public static DemoCa CreateIssuer(string label, DemoCa root, DateTimeOffset now)
    {
        var key = PrivateKey.Generate(KeySpec.Default);
        var template = new CertificateTemplate(StepProfile.IntermediateCa, IssuerCommonName, [], key.ExportSubjectPublicKeyInfo(),
            now, now + IssuerValidity);
        return new DemoCa(label, StepCertificateFactory.Create(template, root.Key, root.Certificate), key);
    }

    /// <summary>A leaf (step's leaf profile: serverAuth + clientAuth) naming <paramref name="identity"/>, with its private key.</summary>
    public X509Certificate2 CreateLeaf(string identity, DateTimeOffset now)
    {
        using var key = PrivateKey.Generate(KeySpec.Default);
        var template = new CertificateTemplate(StepProfile.Leaf, identity, [identity], key.ExportSubjectPublicKeyInfo(), now, now + TimeSpan.FromHours(24));
        using var certificate = StepCertificateFactory.Create(template, Key, Certificate);
        var ec = (EcPrivateKey)key;
        using var withKey = certificate.CopyWithPrivateKey(ec.Key);
        // Round-trip through PKCS#12 so the key outlives the PrivateKey wrapper disposed above.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }

    /// <summary>The hex key id of the CA that signed <paramref name="certificate"/> (its AKI), or "" when absent.</summary>
    public static string AuthorityKeyId(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier is { } id
            ? Convert.ToHexString(id.Span)
            : "";

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}
