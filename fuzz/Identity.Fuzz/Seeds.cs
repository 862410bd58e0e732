using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Cli.Demo;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Pem;

namespace Identity.Fuzz;

/// <summary>
/// <c>identity-fuzz seed DIR</c>: the synthetic part of the seed corpus (fuzz/seeds/make-seeds.sh adds the recorded
/// material: step's vectors, linkerd2-proxy's CSRs, openssl's keys and certificates). These are the shapes of the
/// test suite's hostile cases plus valid requests for the handler targets, one file per seed, and the crash classes
/// of the black-box run that led to the fuzzers (fuzz/regressions).
/// </summary>
internal static class Seeds
{
    private static readonly string[] Durations = ["8760h", "24h0m0s", "1h30m", "-1.5h", "300ms", "0", "1µs", "2562047h47m16.854775807s", ".5m"];
    private static readonly string[] Times = ["2026-12-04T07:08:45Z", "2026-12-04t07:08:45.123456789+02:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-00:30", "8760h"];

    public static void Write(string dir)
    {
        var web = FuzzServer.IdentityOf("emojivoto", "web");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proxy = Csr(key, Name(web), San(web));
        var signer = FuzzJwks.Signer();
        var token = signer.Mint("emojivoto", "web", lifetime: TimeSpan.FromDays(36500));

        Put(dir, "csr", "proxy.der", proxy);
        Put(dir, "csr", "no-san.der", Csr(key, Name(web), null));
        Put(dir, "csr", "two-sans.der", Csr(key, Name(web), San(web, "other.example")));
        Put(dir, "csr", "email-ip-uri.der", Csr(key, Name(web), SanEntries((1, "a@b.c"u8.ToArray()), (7, [10, 0, 0, 1]), (6, "spiffe://td/ns/a"u8.ToArray()))));
        Put(dir, "csr", "ip-wrong-length.der", Csr(key, Name(web), SanEntries((2, Encoding.ASCII.GetBytes(web)), (7, [1, 2, 3]))));
        Put(dir, "csr", "cn-mismatch.der", Csr(key, Name("someone-else"), San(web)));
        Put(dir, "csr", "multi-valued-rdn.der", Csr(key, MultiValuedName(web), San(web)));
        Put(dir, "csr", "sha1.der", Csr(key, Name(web), San(web), HashAlgorithmName.SHA1));
        var tampered = proxy.ToArray();
        tampered[^5] ^= 0x01;
        Put(dir, "csr", "bad-signature.der", tampered);
        using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
        {
            Put(dir, "csr", "p384.der", Csr(p384, Name(web), San(web), HashAlgorithmName.SHA384));
        }

        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=" + web, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var sans = new SubjectAlternativeNameBuilder();
            sans.AddDnsName(web);
            request.CertificateExtensions.Add(sans.Build());
            Put(dir, "csr", "rsa.der", request.CreateSigningRequest());
        }

        // The black-box run's crash classes, kept as seeds too so the fuzzer starts from them.
        foreach (var (name, der) in Regressions(key, web))
        {
            Put(dir, "csr", name, der);
        }

        Put(dir, "certify", "valid.bin", Join(web, "sa:emojivoto:web", proxy));
        Put(dir, "certify", "wrong-identity.bin", Join(FuzzServer.IdentityOf("emojivoto", "voting"), "sa:emojivoto:web", proxy));
        Put(dir, "certify", "review-error.bin", Join(web, "error:[invalid bearer token]", proxy));
        Put(dir, "certify", "down.bin", Join(web, "down", proxy));
        Put(dir, "certify-jwks", "valid.bin", Join(web, token, proxy));
        Put(dir, "certify-jwks", "expired.bin", Join(web, new ServiceAccountTokenIssuer(FuzzJwks.TokenIssuer, null,
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(FuzzServer.Now.AddDays(-3))).Mint("emojivoto", "web"), proxy));

        Put(dir, "jwt", "valid.jwt", Encoding.ASCII.GetBytes(token));
        Put(dir, "jwt", "wrong-audience.jwt", Encoding.ASCII.GetBytes(signer.Mint("emojivoto", "web", audiences: ["https://kubernetes.default.svc"], lifetime: TimeSpan.FromDays(36500))));
        Put(dir, "jwt", "no-kubernetes-claims.jwt", Encoding.ASCII.GetBytes(signer.MintClaims(
            new Dictionary<string, object> { ["sub"] = "system:serviceaccount:emojivoto:web", ["aud"] = "identity.l5d.io", ["iss"] = FuzzJwks.TokenIssuer },
            FuzzServer.Now.AddDays(-1), FuzzServer.Now.AddYears(100))));
        Put(dir, "jwks", "jwks.json", Encoding.UTF8.GetBytes(signer.CreateJwksJson()));

        WriteIssuerSeeds(dir);

        foreach (var (i, text) in Durations.Index())
        {
            Put(dir, "go-duration", $"d{i}.txt", Encoding.UTF8.GetBytes(text));
        }

        foreach (var (i, text) in Times.Index())
        {
            Put(dir, "rfc3339", $"t{i}.txt", Encoding.UTF8.GetBytes(text));
        }
    }

    /// <summary>The crash classes the black-box mutation run found (CertifyService answered UNKNOWN for each).</summary>
    public static IEnumerable<(string Name, byte[] Der)> Regressions(ECDsa key, string identity)
    {
        // A UTF8String CN that is not UTF-8: X500RelativeDistinguishedName.GetSingleElementValue threw.
        yield return ("cn-invalid-utf8.der", Csr(key, RawName(Asn1Tag.ObjectIdentifier, "2.5.4.3", w => w.WriteEncodedValue([0x0C, 0x02, 0xFF, 0xFE])), San(identity)));
        // An RDN whose attribute type is an INTEGER, not an OID: EnumerateRelativeDistinguishedNames threw.
        yield return ("rdn-type-not-oid.der", Csr(key, RawName(Asn1Tag.Integer, null, w => w.WriteCharacterString(UniversalTagNumber.UTF8String, identity)), San(identity)));
        // A BMPString CN of odd length: the platform's name decoder threw.
        yield return ("cn-bmp-odd-length.der", Csr(key, RawName(Asn1Tag.ObjectIdentifier, "2.5.4.3", w => w.WriteEncodedValue([0x1E, 0x03, 0x00, 0x41, 0x00])), San(identity)));
        // An EC key on a curve the platform does not know: PublicKey.GetECDsaPublicKey threw PlatformNotSupportedException.
        yield return ("unknown-curve.der", Csr(key, Name(identity), San(identity), spkiOverride: UnknownCurveSpki(key)));
    }

    private static void WriteIssuerSeeds(string dir)
    {
        using var rootKey = PrivateKey.Generate(KeySpec.Default);
        using var root = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.RootCa, "root.linkerd.cluster.local", [], rootKey.ExportSubjectPublicKeyInfo(), FuzzServer.Now.AddDays(-1), FuzzServer.Now.AddYears(100)),
            rootKey, null);
        using var issuerKey = PrivateKey.Generate(KeySpec.Default);
        using var issuer = StepCertificateFactory.Create(
            new CertificateTemplate(StepProfile.IntermediateCa, "identity.linkerd.cluster.local", [], issuerKey.ExportSubjectPublicKeyInfo(), FuzzServer.Now.AddDays(-1), FuzzServer.Now.AddYears(99)),
            rootKey, root);
        var anchors = PemCodec.Encode("CERTIFICATE", root.RawData);
        Put(dir, "issuer", "valid.bin", Join0(PemCodec.Encode("CERTIFICATE", issuer.RawData), PrivateKeyPem.Write(issuerKey, null), anchors));
        Put(dir, "issuer", "key-mismatch.bin", Join0(PemCodec.Encode("CERTIFICATE", issuer.RawData), PrivateKeyPem.Write(rootKey, null), anchors));
        Put(dir, "issuer", "not-a-ca.bin", Join0(PemCodec.Encode("CERTIFICATE", root.RawData), PrivateKeyPem.Write(rootKey, null), anchors));
        Put(dir, "trust-bundle", "one-anchor.pem", Encoding.ASCII.GetBytes(anchors));
        Put(dir, "trust-bundle", "duplicate.pem", Encoding.ASCII.GetBytes(anchors + anchors + PemCodec.Encode("CERTIFICATE", issuer.RawData)));
        Put(dir, "certificate", "chain.pem", Encoding.ASCII.GetBytes(PemCodec.Encode("CERTIFICATE", issuer.RawData) + anchors));
        Put(dir, "key", "pkcs8-encrypted.pem", Encoding.ASCII.GetBytes(PrivateKeyPem.Write(issuerKey, Targets.KeyTarget.Password)));
    }

    private static byte[] Csr(ECDsa key, byte[] subject, byte[]? sanExtensionValue, HashAlgorithmName? hash = null, byte[]? spkiOverride = null)
    {
        var info = new AsnWriter(AsnEncodingRules.DER);
        using (info.PushSequence())
        {
            info.WriteInteger(0);
            info.WriteEncodedValue(subject);
            info.WriteEncodedValue(spkiOverride ?? key.ExportSubjectPublicKeyInfo());
            using (info.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                if (sanExtensionValue is not null)
                {
                    using (info.PushSequence())
                    {
                        info.WriteObjectIdentifier("1.2.840.113549.1.9.14");
                        using (info.PushSetOf())
                        using (info.PushSequence())
                        using (info.PushSequence())
                        {
                            info.WriteObjectIdentifier("2.5.29.17");
                            info.WriteOctetString(sanExtensionValue);
                        }
                    }
                }
            }
        }

        var infoDer = info.Encode();
        var digest = hash ?? HashAlgorithmName.SHA256;
        var signature = key.SignData(infoDer, digest, DSASignatureFormat.Rfc3279DerSequence);
        var csr = new AsnWriter(AsnEncodingRules.DER);
        using (csr.PushSequence())
        {
            csr.WriteEncodedValue(infoDer);
            using (csr.PushSequence())
            {
                csr.WriteObjectIdentifier(digest == HashAlgorithmName.SHA1 ? "1.2.840.10045.4.1"
                    : digest == HashAlgorithmName.SHA384 ? "1.2.840.10045.4.3.3" : "1.2.840.10045.4.3.2");
            }

            csr.WriteBitString(signature);
        }

        return csr.Encode();
    }

    private static byte[] Name(string commonName) => new X500DistinguishedName("CN=" + commonName).RawData;

    private static byte[] MultiValuedName(string commonName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
        {
            foreach (var (oid, value) in new[] { ("2.5.4.10", "emojivoto"), ("2.5.4.3", commonName) })
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                }
            }
        }

        return writer.Encode();
    }

    private static byte[] RawName(Asn1Tag typeTag, string? oid, Action<AsnWriter> value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
        using (writer.PushSequence())
        {
            if (typeTag.HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                writer.WriteObjectIdentifier(oid!);
            }
            else
            {
                writer.WriteInteger(3);
            }

            value(writer);
        }

        return writer.Encode();
    }

    private static byte[] San(params string[] dnsNames) =>
        SanEntries([.. dnsNames.Select(d => (2, Encoding.ASCII.GetBytes(d)))]);

    private static byte[] SanEntries(params (int Tag, byte[] Value)[] entries)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var (tag, value) in entries)
            {
                writer.WriteOctetString(value, new Asn1Tag(TagClass.ContextSpecific, tag));
            }
        }

        return writer.Encode();
    }

    private static byte[] UnknownCurveSpki(ECDsa key)
    {
        var point = key.ExportParameters(false).Q;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                writer.WriteObjectIdentifier("1.2.840.10045.7.1.7");
            }

            writer.WriteBitString([0x04, .. point.X!, .. point.Y!]);
        }

        return writer.Encode();
    }

    private static byte[] Join(string identity, string token, byte[] csr) =>
        [.. Encoding.UTF8.GetBytes(identity), (byte)'\n', .. Encoding.UTF8.GetBytes(token), (byte)'\n', .. csr];

    private static byte[] Join0(string crt, string key, string anchors) =>
        [.. Encoding.ASCII.GetBytes(crt), 0, .. Encoding.ASCII.GetBytes(key), 0, .. Encoding.ASCII.GetBytes(anchors)];

    private static void Put(string dir, string target, string name, byte[] data)
    {
        var folder = Path.Combine(dir, target);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, name), data);
    }
}
