using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Tests.Support;

namespace Identity.Pki.Tests.Certificates;

/// <summary>
/// Builds each step test vector again with the command-equivalent options and compares the DER structure field
/// by field (everything except dates, serials, keys and signatures) with the file the real step wrote.
/// </summary>
public sealed class StepProfileStructureTests
{
    private static readonly DateTimeOffset Now = StepCertificateFactory.TruncateToSeconds(DateTimeOffset.UtcNow);

    public static TheoryData<string> StepFiles =>
    [
        "root.crt", "issuer.crt", "leaf.crt", "leaf-long.crt", "selfsigned.crt", "sans.crt", "p384.crt",
        "rsa-root.crt", "rsa-issuer.crt", "ed-root.crt", "enc-ec.crt", "enc-ed.crt", "enc-issuer.crt", "signed-by-enc.crt",
    ];

    [Theory]
    [MemberData(nameof(StepFiles))]
    public void Our_certificate_has_the_same_structure_as_steps(string file)
    {
        var step = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile(file));
        using var ours = Build(file);
        Assert.Equal(CertShape.Of(step), CertShape.Of(ours.Certificate));
        AssertKeyIdentifiers(step, IssuerOf(file) is { } i ? X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile(i)) : null);
        AssertKeyIdentifiers(ours.Certificate, ours.Issuer);
        Assert.InRange(ours.Certificate.SerialNumberBytes.Length, 1, 17);
        Assert.Equal(step.SubjectName.Name, ours.Certificate.SubjectName.Name);
    }

    [Theory]
    [InlineData("enc-rsa.crt")]
    [InlineData("rsa-leaf-long.crt")]
    public void Rsa_leaf_under_ec_issuer_gets_key_encipherment_from_its_own_key_like_step_head(string file)
    {
        // The vectors come from step v0.23.2, which decided Key Encipherment from the CA key (EC here);
        // HEAD (our target, step-compat §11) decides from the leaf key (RSA): that is the only difference.
        var step = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile(file));
        using var ours = Build(file);
        var stepShape = CertShape.Of(step);
        var ourShape = CertShape.Of(ours.Certificate);
        Assert.Equal("03020780", stepShape.KeyUsage);
        Assert.Equal("030205A0", ourShape.KeyUsage);
        Assert.Equal(stepShape with { KeyUsage = null }, ourShape with { KeyUsage = null });
    }

    [Fact]
    public void Key_usage_basic_constraints_and_eku_bytes_match_the_spec()
    {
        var root = CertShape.Of(X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("root.crt")));
        var issuer = CertShape.Of(X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("issuer.crt")));
        var leaf = CertShape.Of(X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("leaf.crt")));
        using var ourRoot = Build("root.crt");
        using var ourLeaf = Build("leaf.crt");
        Assert.Equal("03020106", CertShape.Of(ourRoot.Certificate).KeyUsage);
        Assert.Equal(root.KeyUsage, CertShape.Of(ourRoot.Certificate).KeyUsage);
        Assert.Equal("30060101FF020101", root.BasicConstraints);
        Assert.Equal("30060101FF020100", issuer.BasicConstraints);
        Assert.Equal("03020780", CertShape.Of(ourLeaf.Certificate).KeyUsage);
        Assert.Equal("301406082B0601050507030106082B06010505070302", CertShape.Of(ourLeaf.Certificate).ExtendedKeyUsage);
        Assert.Null(leaf.BasicConstraints);
        Assert.Equal(TimeSpan.FromHours(87600), root.Validity);
        Assert.Equal(TimeSpan.FromHours(8760), issuer.Validity);
    }

    [Fact]
    public void Sans_are_encoded_dns_email_ip_uri_like_step()
    {
        var step = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("sans.crt"));
        using var ours = Build("sans.crt");
        Assert.Equal(step.Extensions["2.5.29.17"]!.RawData, ours.Certificate.Extensions["2.5.29.17"]!.RawData);
    }

    [Theory]
    [InlineData("*.example.com", "UTF8String")]
    [InlineData("A&B", "UTF8String")]
    [InlineData("user@example.com", "UTF8String")]
    [InlineData("O'Neil (x)", "PrintableString")]
    [InlineData("héllo", "UTF8String")]
    [InlineData("web.example.com", "PrintableString")]
    public void Common_name_string_type_follows_go(string cn, string tag)
    {
        using var key = PrivateKey.Generate(KeySpec.Default);
        using var cert = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.SelfSigned, cn, ["x.example"], key.ExportSubjectPublicKeyInfo(), Now, Now.AddHours(1)), key, null);
        Assert.Equal(tag, CertShape.Of(cert).SubjectStringTag);
        Assert.Equal("CN=" + cn, cert.Subject);
    }

    [Fact]
    public void Subject_email_or_ip_becomes_only_that_san()
    {
        using var key = PrivateKey.Generate(KeySpec.Default);
        using var email = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.SelfSigned, "user@example.com", [], key.ExportSubjectPublicKeyInfo(), Now, Now.AddHours(1)), key, null);
        using var ip = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.SelfSigned, "10.1.2.3", [], key.ExportSubjectPublicKeyInfo(), Now, Now.AddHours(1)), key, null);
        var emailSans = SubjectAlternativeNames.Decode(email.Extensions["2.5.29.17"]!.RawData);
        var ipSans = SubjectAlternativeNames.Decode(ip.Extensions["2.5.29.17"]!.RawData);
        Assert.Equal(["user@example.com"], emailSans.EmailAddresses);
        Assert.Empty(emailSans.DnsNames);
        Assert.Equal("10.1.2.3", Assert.Single(ipSans.IPAddresses).ToString());
        Assert.Empty(ipSans.DnsNames);
    }

    [Theory]
    [InlineData("P-256", "1.2.840.10045.4.3.2")]
    [InlineData("P-384", "1.2.840.10045.4.3.3")]
    [InlineData("P-521", "1.2.840.10045.4.3.4")]
    public void Signature_algorithm_follows_the_signer_curve(string curve, string algorithm)
    {
        using var key = PrivateKey.Generate(KeySpec.Ec(curve));
        using var cert = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.RootCa, "r", [], key.ExportSubjectPublicKeyInfo(), Now, Now.AddHours(1)), key, null);
        Assert.Equal(algorithm, cert.SignatureAlgorithm.Value);
        using var ecdsa = cert.GetECDsaPublicKey()!;
        Assert.Equal(key.KeySize, ecdsa.KeySize);
    }

    [Fact]
    public void Rsa_keys_have_the_default_size_and_exponent_65537()
    {
        using var key = (RsaPrivateKey)PrivateKey.Generate(KeySpec.Rsa());
        Assert.Equal(2048, key.KeySize);
        Assert.Equal(new byte[] { 1, 0, 1 }, key.Key.ExportParameters(false).Exponent);
        Assert.Equal("the size of the RSA key should be at least 2048 bits", Assert.Throws<PkiException>(() => PrivateKey.Generate(KeySpec.Rsa(1024))).Message);
    }

    [Fact]
    public void Validity_is_utctime_until_2049_and_generalizedtime_from_2050_with_whole_seconds()
    {
        using var key = PrivateKey.Generate(KeySpec.Default);
        var notBefore = new DateTimeOffset(2049, 12, 31, 23, 59, 59, 999, TimeSpan.Zero);
        using var cert = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.RootCa, "r", [], key.ExportSubjectPublicKeyInfo(), notBefore, notBefore.AddSeconds(1)), key, null);
        var tbs = new System.Formats.Asn1.AsnReader(cert.RawData, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence().ReadSequence();
        tbs.ReadEncodedValue();
        tbs.ReadInteger();
        tbs.ReadEncodedValue();
        tbs.ReadEncodedValue();
        var validity = tbs.ReadSequence();
        Assert.Equal(System.Formats.Asn1.UniversalTagNumber.UtcTime, (System.Formats.Asn1.UniversalTagNumber)validity.PeekTag().TagValue);
        Assert.Equal(new DateTimeOffset(2049, 12, 31, 23, 59, 59, TimeSpan.Zero), validity.ReadUtcTime());
        Assert.Equal(System.Formats.Asn1.UniversalTagNumber.GeneralizedTime, (System.Formats.Asn1.UniversalTagNumber)validity.PeekTag().TagValue);
        Assert.Equal(new DateTimeOffset(2050, 1, 1, 0, 0, 0, TimeSpan.Zero), validity.ReadGeneralizedTime());
    }

    [Fact]
    public void Serials_are_random_positive_and_at_most_128_bits()
    {
        var serials = new HashSet<string>();
        for (var i = 0; i < 200; i++)
        {
            var serial = StepCertificateFactory.NewSerialNumber();
            Assert.InRange(serial.Length, 1, 17);
            Assert.True(serial[0] < 0x80);
            if (serial.Length == 17)
            {
                Assert.Equal(0, serial[0]);
                Assert.True(serial[1] >= 0x80);
            }

            Assert.True(serials.Add(Convert.ToHexString(serial)));
        }
    }

    private static void AssertKeyIdentifiers(X509Certificate2 cert, X509Certificate2? issuer)
    {
#pragma warning disable CA5350 // checking SHA-1 key identifiers, as the certificates define them
        Assert.Equal(SHA1.HashData(CertShape.KeyBits(cert)), CertShape.Ski(cert));
#pragma warning restore CA5350
        if (issuer is null || issuer.SubjectName.RawData.AsSpan().SequenceEqual(cert.SubjectName.RawData))
        {
            Assert.Null(CertShape.AkiKeyId(cert));
        }
        else
        {
            Assert.Equal(CertShape.Ski(issuer), CertShape.AkiKeyId(cert));
        }
    }

    private static string? IssuerOf(string file) => file switch
    {
        "issuer.crt" or "enc-issuer.crt" => "root.crt",
        "rsa-issuer.crt" => "rsa-root.crt",
        "leaf.crt" or "leaf-long.crt" or "sans.crt" or "p384.crt" or "enc-ec.crt" or "enc-rsa.crt" => "issuer.crt",
        "rsa-leaf-long.crt" => "rsa-issuer.crt",
        "signed-by-enc.crt" => "enc-issuer.crt",
        _ => null,
    };

    // The same options as MANIFEST.md's step commands, through the library.
    private static Built Build(string file)
    {
        const string linkerdRoot = "root.linkerd.cluster.local";
        const string identity = "identity.linkerd.cluster.local";
        const string web = "web.test.serviceaccount.identity.linkerd.cluster.local";
        return file switch
        {
            "root.crt" => Root(linkerdRoot, KeySpec.Default),
            "rsa-root.crt" => Root("RSA Root", KeySpec.Rsa(2048)),
            "ed-root.crt" => Root("Ed25519 Root", KeySpec.Ed25519),
            "issuer.crt" => Issue(StepProfile.IntermediateCa, identity, KeySpec.Default, Root(linkerdRoot, KeySpec.Default), [], TimeSpan.FromHours(8760)),
            "enc-issuer.crt" => Issue(StepProfile.IntermediateCa, identity, KeySpec.Default, Root(linkerdRoot, KeySpec.Default), []),
            "rsa-issuer.crt" => Issue(StepProfile.IntermediateCa, identity, KeySpec.Default, Root("RSA Root", KeySpec.Rsa(2048)), []),
            "leaf.crt" => Issue(StepProfile.Leaf, web, KeySpec.Default, Intermediate(), []),
            "leaf-long.crt" => Issue(StepProfile.Leaf, web, KeySpec.Default, Intermediate(), [], TimeSpan.FromHours(87600)),
            "sans.crt" => Issue(StepProfile.Leaf, "Mixed SANs", KeySpec.Default, Intermediate(),
                ["a.example.com", "10.0.0.1", "user@example.com", "spiffe://cluster.local/ns/test/sa/web", "::1"]),
            "p384.crt" => Issue(StepProfile.Leaf, "p384.example.com", KeySpec.Ec("P-384"), Intermediate(), []),
            "enc-ec.crt" => Issue(StepProfile.Leaf, "enc.example.com", KeySpec.Default, Intermediate(), []),
            "enc-rsa.crt" => Issue(StepProfile.Leaf, "enc-rsa.example.com", KeySpec.Rsa(), Intermediate(), []),
            "rsa-leaf-long.crt" => Issue(StepProfile.Leaf, "rsa.example.com", KeySpec.Rsa(), Intermediate(Root("RSA Root", KeySpec.Rsa())), [], TimeSpan.FromHours(87600)),
            "signed-by-enc.crt" => Issue(StepProfile.Leaf, "byenc.example.com", KeySpec.Default, Intermediate(), []),
            "selfsigned.crt" => SelfSigned("self.example.com", KeySpec.Default),
            "enc-ed.crt" => SelfSigned("enc-ed.example.com", KeySpec.Ed25519),
            _ => throw new ArgumentOutOfRangeException(nameof(file)),
        };
    }

    private static Built Intermediate(Built? root = null) =>
        Issue(StepProfile.IntermediateCa, "identity.linkerd.cluster.local", KeySpec.Default, root ?? Root("root.linkerd.cluster.local", KeySpec.Default), [], TimeSpan.FromHours(8760));

    private static Built Root(string subject, KeySpec spec) => Self(StepProfile.RootCa, subject, spec);

    private static Built SelfSigned(string subject, KeySpec spec) => Self(StepProfile.SelfSigned, subject, spec);

    private static Built Self(StepProfile profile, string subject, KeySpec spec)
    {
        var key = PrivateKey.Generate(spec);
        var cert = StepCertificateFactory.Create(
            new CertificateTemplate(profile, subject, [], key.ExportSubjectPublicKeyInfo(), Now, Now + profile.DefaultValidity()), key, null);
        return new Built(cert, key, null);
    }

    private static Built Issue(StepProfile profile, string subject, KeySpec spec, Built parent, string[] sans, TimeSpan? validity = null)
    {
        var key = PrivateKey.Generate(spec);
        var cert = StepCertificateFactory.Create(
            new CertificateTemplate(profile, subject, sans, key.ExportSubjectPublicKeyInfo(), Now, Now + (validity ?? profile.DefaultValidity())),
            parent.Key,
            parent.Certificate);
        return new Built(cert, key, parent.Certificate);
    }

    private sealed record Built(X509Certificate2 Certificate, PrivateKey Key, X509Certificate2? Issuer) : IDisposable
    {
        public void Dispose()
        {
            Certificate.Dispose();
            Key.Dispose();
        }
    }
}
