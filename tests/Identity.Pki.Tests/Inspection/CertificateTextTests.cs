using System.Text.Json.Nodes;
using Identity.Pki.Inspection;
using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Inspection;

public sealed class CertificateTextTests
{
    private static System.Security.Cryptography.X509Certificates.X509Certificate2 Load(string file) =>
        CertificateFile.ReadCertificates(TestPaths.StepFile(file))[0];

    [Fact]
    public void Text_of_step_leaf_equals_step_inspect_output()
    {
        var expected = File.ReadAllText(TestPaths.StepFile("inspect-leaf.txt"));

        Assert.Equal(expected.Split('\n'), CertificateText.Format(Load("leaf.crt")).Split('\n'));
    }

    [Fact]
    public void Short_of_step_root_equals_step_inspect_short_output()
    {
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("inspect-root-short.txt")), CertificateText.FormatShort(Load("root.crt")));
    }

    [Theory]
    [InlineData("issuer.crt", "X.509v3 Intermediate CA Certificate (ECDSA P-256) [Serial: 5453...7289]")]
    [InlineData("leaf.crt", "X.509v3 TLS Certificate (ECDSA P-256) [Serial: 1234...1904]")]
    [InlineData("rsa-root.crt", "X.509v3 Root CA Certificate (RSA 2048) [Serial: 3252...6022]")]
    [InlineData("ed-root.crt", "X.509v3 Root CA Certificate (Ed25519 256) [Serial: 3214...0675]")]
    [InlineData("p384.crt", "X.509v3 TLS Certificate (ECDSA P-384) [Serial: ")]
    [InlineData("selfsigned.crt", "X.509v3 TLS Certificate (ECDSA P-256) [Serial: ")]
    public void Short_type_word_key_and_abbreviated_serial(string file, string firstLine)
    {
        var text = CertificateText.FormatShort(Load(file));

        Assert.StartsWith(firstLine, text.Split('\n')[0], StringComparison.Ordinal);
        Assert.Matches(@"\[Serial: \d{4}\.\.\.\d{4}\]$", text.Split('\n')[0]);
    }

    [Fact]
    public void Short_lists_sans_under_the_subject_in_go_order()
    {
        var text = CertificateText.FormatShort(Load("sans.crt"));

        Assert.Equal(
            """
            X.509v3 TLS Certificate (ECDSA P-256) [Serial: 1087...8921]
              Subject:     Mixed SANs
                           a.example.com
                           10.0.0.1
                           ::1
                           user@example.com
                           spiffe://cluster.local/ns/test/sa/web
              Issuer:      identity.linkerd.cluster.local
              Valid from:  2026-11-26T11:21:56Z
                      to:  2026-11-27T11:21:56Z

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void Text_shows_ca_constraints_and_sans_of_every_kind()
    {
        var issuer = CertificateText.Format(Load("issuer.crt"));
        Assert.Contains("            X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n", issuer, StringComparison.Ordinal);
        Assert.Contains("            X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0\n", issuer, StringComparison.Ordinal);

        var sans = CertificateText.Format(Load("sans.crt"));
        Assert.Contains(
            "                DNS:a.example.com\n                email:user@example.com\n                IP Address:10.0.0.1, IP Address:::1\n                URI:spiffe://cluster.local/ns/test/sa/web\n",
            sans,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Rsa_and_ed25519_keys_are_printed()
    {
        var rsa = CertificateText.Format(Load("rsa-root.crt"));
        Assert.Contains("            Public Key Algorithm: RSA\n                Public-Key: (2048 bit)\n                Modulus:\n", rsa, StringComparison.Ordinal);
        Assert.Contains("\n                Exponent: 65537 (0x10001)\n", rsa, StringComparison.Ordinal);
        Assert.Contains("    Signature Algorithm: SHA256-RSA\n", rsa, StringComparison.Ordinal);

        var ed = CertificateText.Format(Load("ed-root.crt"));
        Assert.Contains("            Public Key Algorithm: Ed25519\n                Public-Key: (32 bit)\n                    9e:ab:5a:", ed, StringComparison.Ordinal);
        Assert.Contains("    Signature Algorithm: Ed25519\n         97:50:5f:", ed, StringComparison.Ordinal);
    }

    [Fact]
    public void Csr_text_and_short()
    {
        var der = CertificateFile.Read(TestPaths.StepFile("req.csr")).CertificateRequests[0];

        var text = CertificateText.FormatRequest(der);
        Assert.StartsWith("Certificate Request:\n    Data:\n        Version: 0 (0x0)\n        Subject: CN=csr.example.com\n", text, StringComparison.Ordinal);
        Assert.Contains("        Requested Extensions:\n            X509v3 Subject Alternative Name:\n                DNS:csr.example.com\n                IP Address:10.1.2.3\n", text, StringComparison.Ordinal);
        Assert.Contains("    Signature Algorithm: ECDSA-SHA256\n         30:", text, StringComparison.Ordinal);

        Assert.Equal(
            "X.509v3 Certificate Signing Request (ECDSA P-256)\n  Subject:     csr.example.com\n               10.1.2.3\n",
            CertificateText.FormatRequestShort(der));
    }

    [Fact]
    public void Json_of_step_issuer_equals_step_output_byte_for_byte()
    {
        var expected = File.ReadAllText(TestPaths.StepFile("inspect-issuer.json"));

        var json = CertificateJson.Format([Load("issuer.crt")], asArray: false);

        Assert.Equal(expected, json);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(json)));
    }

    [Fact]
    public void Json_marks_roots_self_signed_and_bundles_as_arrays()
    {
        var root = JsonNode.Parse(CertificateJson.Format([Load("root.crt")], asArray: false))!;
        Assert.True(root["signature"]!["self_signed"]!.GetValue<bool>());
        Assert.Equal(96, root["extensions"]!["key_usage"]!["value"]!.GetValue<int>());
        Assert.Null(root["extensions"]!["authority_key_id"]);

        var bundle = CertificateFile.ReadCertificates(TestPaths.StepFile("leaf-bundle.crt"));
        var array = JsonNode.Parse(CertificateJson.Format(bundle, asArray: true))!.AsArray();
        Assert.Equal(2, array.Count);
        Assert.Equal(1, array[0]!["extensions"]!["key_usage"]!["value"]!.GetValue<int>());
        Assert.True(array[0]!["extensions"]!["extended_key_usage"]!["server_auth"]!.GetValue<bool>());
        Assert.Equal("5427a9b247938a0e2b92a612857ee8b1d8343b3e93db319dba3f0905901ac253", array[0]!["fingerprint_sha256"]!.GetValue<string>());
        Assert.Equal(
            File.ReadAllText(TestPaths.StepFile("inspect-issuer.json")),
            array[1]!.ToJsonString(new System.Text.Json.JsonSerializerOptions
            {
                WriteIndented = true,
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }) + "\n");

        var rsa = JsonNode.Parse(CertificateJson.Format([Load("rsa-root.crt")], asArray: false))!;
        Assert.Equal(65537, rsa["subject_key_info"]!["rsa_public_key"]!["exponent"]!.GetValue<int>());
        Assert.Equal("SHA256-RSA", rsa["signature_algorithm"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Json_lists_every_san_kind()
    {
        var json = JsonNode.Parse(CertificateJson.Format([Load("sans.crt")], asArray: false))!;
        var san = json["extensions"]!["subject_alt_name"]!;

        Assert.Equal("a.example.com", san["dns_names"]![0]!.GetValue<string>());
        Assert.Equal("user@example.com", san["email_addresses"]![0]!.GetValue<string>());
        Assert.Equal(["10.0.0.1", "::1"], san["ip_addresses"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("spiffe://cluster.local/ns/test/sa/web", san["uniform_resource_identifiers"]![0]!.GetValue<string>());
    }
}
