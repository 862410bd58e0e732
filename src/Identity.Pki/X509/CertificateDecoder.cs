using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Inspection;

namespace Identity.Pki.X509;

/// <summary>
/// The one way a certificate from outside enters the project (files, bundles, Secrets, Certify answers): decoded
/// with the project's own DER decoders first (structure, names, key, subjectAltName, no duplicate extensions, as
/// Go's parser demands), then loaded by the platform with every field it decodes lazily decoded once here. A
/// certificate that loads is one every later reader (chain verifier, inspect, the issuer loader) can use without
/// meeting a malformed field; one that does not gets an error value naming what is wrong.
/// </summary>
public static class CertificateDecoder
{
    /// <summary>Decodes and loads one DER certificate.</summary>
    public static Decoded<X509Certificate2> Load(ReadOnlySpan<byte> der)
    {
        var bytes = der.ToArray();
        var decoded = X509Parts.DecodeCertificate(bytes);
        if (decoded.Value is not { } parts)
        {
            return Decoded.Fail<X509Certificate2>(decoded.Error!);
        }

        if (Problem(parts) is { } problem)
        {
            return Decoded.Fail<X509Certificate2>(problem);
        }

        X509Certificate2? certificate = null;
        var what = "certificate";
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(bytes);
            what = "validity";
            _ = certificate.NotBefore;
            _ = certificate.NotAfter;
            what = "subject";
            _ = certificate.Subject;
            _ = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            what = "issuer";
            _ = certificate.Issuer;
            _ = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true);
            foreach (var extension in certificate.Extensions)
            {
                what = ExtensionName(extension.Oid?.Value) + " extension";
                Touch(extension);
            }

            return Decoded.Ok(certificate);
        }
        catch (CryptographicException)
        {
            certificate?.Dispose();
            return Decoded.Fail<X509Certificate2>($"x509: malformed {what}");
        }
    }

    /// <summary>Why the decoded parts are not a certificate Go would parse, or null.</summary>
    private static string? Problem(X509Parts parts)
    {
        if (RawExtension.FindDuplicate(parts.Extensions) is not null)
        {
            return "x509: certificate contains duplicate extensions";
        }

        if (DistinguishedName.Decode(parts.SubjectDer).Error is { } subject)
        {
            return "x509: invalid subject: " + subject;
        }

        if (DistinguishedName.Decode(parts.IssuerDer).Error is { } issuer)
        {
            return "x509: invalid issuer: " + issuer;
        }

        if (PublicKeyInfo.Decode(parts.SpkiDer).Error is { } key)
        {
            return "x509: " + key;
        }

        return parts.Find(Keys.Oids.SubjectAltName) is { } san && GeneralNames.Decode(san.Value).Error is { } names
            ? "x509: " + names
            : null;
    }

    // The platform's typed extensions decode their value on first use; use each once.
    private static void Touch(X509Extension extension)
    {
        switch (extension)
        {
            case X509BasicConstraintsExtension basic:
                _ = basic.CertificateAuthority;
                _ = basic.HasPathLengthConstraint;
                _ = basic.PathLengthConstraint;
                break;
            case X509KeyUsageExtension usage:
                _ = usage.KeyUsages;
                break;
            case X509EnhancedKeyUsageExtension enhanced:
                _ = enhanced.EnhancedKeyUsages.Count;
                break;
            case X509SubjectKeyIdentifierExtension subjectKey:
                _ = subjectKey.SubjectKeyIdentifierBytes;
                break;
            case X509AuthorityKeyIdentifierExtension authorityKey:
                _ = authorityKey.KeyIdentifier;
                _ = authorityKey.NamedIssuer;
                _ = authorityKey.SerialNumber;
                break;
            case X509SubjectAlternativeNameExtension san:
                _ = san.EnumerateDnsNames().Count();
                _ = san.EnumerateIPAddresses().Count();
                break;
        }
    }

    private static string ExtensionName(string? oid) => oid switch
    {
        "2.5.29.19" => "basicConstraints",
        "2.5.29.15" => "keyUsage",
        "2.5.29.37" => "extKeyUsage",
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.17" => "subjectAltName",
        _ => oid ?? "unknown",
    };
}
