using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Identity.Cli.Tests.Cert;

/// <summary>
/// Every bad input through the real command tree: exact message on stderr, nothing on stdout, exit code 1, and the
/// working directory byte-for-byte unchanged (no new file, no partially written file, pre-existing files intact).
/// </summary>
public sealed class CertBadInputTests
{
    private const string Ok = "--no-password --insecure";

    // {d} is the work directory. Arguments are split on spaces.
    public static TheoryData<string, string, string> Cases => new()
    {
        { "missing --ca file", "cert create x {d}/out.crt {d}/out.key --ca {d}/nope.crt --ca-key {d}/root.key " + Ok, "open {d}/nope.crt: no such file or directory" },
        { "missing --ca-key file", "cert create x {d}/out.crt {d}/out.key --ca {d}/root.crt --ca-key {d}/nope.key " + Ok, "open {d}/nope.key: no such file or directory" },
        { "missing --key file", "cert create x {d}/out.crt --profile root-ca --key {d}/nope.key", "open {d}/nope.key: no such file or directory" },
        { "missing --password-file", "cert create x {d}/out.crt {d}/out.key --profile root-ca --password-file {d}/nope.txt", "open {d}/nope.txt: no such file or directory" },
        { "empty password file", "cert create x {d}/out.crt {d}/out.key --profile root-ca --password-file {d}/empty.txt", "the password file is empty" },
        { "--ca PEM with garbage", "cert create x {d}/out.crt {d}/out.key --ca {d}/garbage.crt --ca-key {d}/root.key " + Ok, "error decoding {d}/garbage.crt: PEM block 'CERTIFICATE' is not valid base64" },
        { "--ca not PEM nor DER", "cert create x {d}/out.crt {d}/out.key --ca {d}/text.txt --ca-key {d}/root.key " + Ok, "error parsing {d}/text.txt: not a valid X.509 certificate" },
        { "--ca-key garbage", "cert create x {d}/out.crt {d}/out.key --ca {d}/root.crt --ca-key {d}/text.txt " + Ok, "error decoding {d}/text.txt: not a PEM file and not a DER private key" },
        { "--ca-key is a certificate", "cert create x {d}/out.crt {d}/out.key --ca {d}/root.crt --ca-key {d}/root.crt " + Ok, "error decoding {d}/root.crt: unsupported PEM block type 'CERTIFICATE' (expected a private key)" },
        { "--ca with two certificates", "cert create x {d}/out.crt {d}/out.key --ca {d}/chain.crt --ca-key {d}/issuer.key " + Ok, "error decoding {d}/chain.crt: contains more than one PEM encoded block" },
        { "wrong --ca-password-file", "cert create x {d}/out.crt {d}/out.key --ca {d}/enc.crt --ca-key {d}/enc.key --ca-password-file {d}/wrong.txt " + Ok, "error decrypting {d}/enc.key: incorrect password" },
        { "encrypted --ca-key without password", "cert create x {d}/out.crt {d}/out.key --ca {d}/enc.crt --ca-key {d}/enc.key " + Ok, "{d}/enc.key is encrypted: use '--ca-password-file <file>'" },
        { "key does not match certificate", "cert create x {d}/out.crt {d}/out.key --ca {d}/root.crt --ca-key {d}/issuer.key " + Ok, "the key in {d}/issuer.key does not match the certificate in {d}/root.crt" },
        { "--ca is not a CA", "cert create x {d}/out.crt {d}/out.key --ca {d}/leaf.crt --ca-key {d}/leaf.key " + Ok, "{d}/leaf.crt is not a CA certificate (it has no basicConstraints CA:TRUE)" },
        { "--ca expired", "cert create x {d}/out.crt {d}/out.key --ca {d}/expired.crt --ca-key {d}/expired.key " + Ok, "{d}/expired.crt has expired (it was valid until " },
        { "intermediate from pathlen-0 issuer", "cert create x {d}/out.crt {d}/out.key --profile intermediate-ca --ca {d}/issuer.crt --ca-key {d}/issuer.key " + Ok, "{d}/issuer.crt has pathlen 0 and cannot issue an intermediate CA" },
        { "RSA < 2048", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty RSA --size 1024 " + Ok, "the size of the RSA key should be at least 2048 bits" },
        { "RSA < 2048 even with --insecure", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty RSA --size 1024 --insecure --no-password", "the size of the RSA key should be at least 2048 bits" },
        { "unknown curve P-224", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty EC --crv P-224 " + Ok, "invalid value 'P-224' for flag '--crv'; options are P-256, P-384, or P-521" },
        { "OKP with a NIST curve", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty OKP --curve P-256 " + Ok, "invalid value 'P-256' for flag '--crv'; options are Ed25519" },
        { "unknown --kty", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty DSA " + Ok, "invalid value 'DSA' for flag '--kty'; options are EC, RSA, or OKP" },
        { "--not-after before --not-before", "cert create x {d}/out.crt {d}/out.key --profile root-ca --not-before 2h --not-after 1h " + Ok, "flag '--not-before 2h' is incompatible with flag '--not-after 1h'" },
        { "--not-after already expired", "cert create x {d}/out.crt {d}/out.key --profile root-ca --not-after -1h " + Ok, "invalid value '-1h' for flag '--not-after': certificate is already expired" },
        { "1d duration", "cert create x {d}/out.crt {d}/out.key --profile root-ca --not-after 1d " + Ok, "invalid value '1d' for flag '--not-after'" },
        { "bad --not-before", "cert create x {d}/out.crt {d}/out.key --profile root-ca --not-before 2026-13-01 " + Ok, "invalid value '2026-13-01' for flag '--not-before'" },
        { "overwrite crt without --force", "cert create x {d}/existing.crt {d}/out.key --profile root-ca " + Ok, "{d}/existing.crt already exists: use --force to overwrite it" },
        { "overwrite key without --force", "cert create x {d}/out.crt {d}/existing.key --profile root-ca " + Ok, "{d}/existing.key already exists: use --force to overwrite it" },
        { "--bundle with root-ca", "cert create x {d}/out.crt {d}/out.key --profile root-ca --bundle " + Ok, "flag '--bundle' is incompatible with flag '--profile root-ca'" },
        { "self-signed without --subtle", "cert create x {d}/out.crt {d}/out.key --profile self-signed " + Ok, "'--profile self-signed' requires the '--subtle' flag" },
        { "leaf without --ca", "cert create x {d}/out.crt {d}/out.key " + Ok, "'--profile leaf' requires the '--ca' flag" },
        { "intermediate without --ca-key", "cert create x {d}/out.crt {d}/out.key --profile intermediate-ca --ca {d}/root.crt " + Ok, "'--profile intermediate-ca' requires the '--ca-key' flag" },
        { "root with --ca", "cert create x {d}/out.crt {d}/out.key --profile root-ca --ca {d}/root.crt --ca-key {d}/root.key " + Ok, "flag '--ca' is incompatible with flag '--profile root-ca'" },
        { "unknown profile", "cert create x {d}/out.crt {d}/out.key --profile server " + Ok, "invalid value 'server' for flag '--profile'" },
        { "--no-password without --insecure", "cert create x {d}/out.crt {d}/out.key --profile root-ca --no-password", "flag '--no-password' requires the '--insecure' flag" },
        { "--no-password with --password-file", "cert create x {d}/out.crt {d}/out.key --profile root-ca --password-file {d}/pw.txt " + Ok, "flag '--no-password' is incompatible with flag '--password-file'" },
        { "no password choice (no TTY prompt)", "cert create x {d}/out.crt {d}/out.key --profile root-ca", "this tool never prompts" },
        { "crt == key", "cert create x {d}/same.pem {d}/same.pem --profile root-ca " + Ok, "positional arguments <crt-file> and <key-file> cannot be equal" },
        { "missing <key-file>", "cert create x {d}/out.crt --profile root-ca " + Ok, "missing positional argument <key-file>" },
        { "--size without --kty", "cert create x {d}/out.crt {d}/out.key --profile root-ca --size 4096 " + Ok, "flag '--size' requires the '--kty' flag" },
        { "--crv without --kty", "cert create x {d}/out.crt {d}/out.key --profile root-ca --crv P-384 " + Ok, "flag '--crv' requires the '--kty' flag" },
        { "--kty RSA --crv P-256", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty RSA --crv P-256 " + Ok, "flag '--crv' is incompatible with flag '--kty RSA'" },
        { "--kty EC --size", "cert create x {d}/out.crt {d}/out.key --profile root-ca --kty EC --size 2048 " + Ok, "flag '--size' is incompatible with flag '--kty EC'" },
        { "--key with --kty", "cert create x {d}/out.crt {d}/out.key --profile root-ca --key {d}/root.key --kty EC " + Ok, "flag '--key' is incompatible with flag '--kty'" },
        { "--csr with --ca", "cert create x {d}/out.csr {d}/out.key --csr --ca {d}/root.crt " + Ok, "flag '--csr' is incompatible with flag '--ca'" },
        { "non-ASCII SAN", "cert create x {d}/out.crt {d}/out.key --profile self-signed --subtle --san bücher.example " + Ok, "invalid SAN 'bücher.example': it cannot be encoded as an IA5String" },
        { "cert file in a missing directory (key rolled back)", "cert create x {d}/missing/out.crt {d}/out.key --profile root-ca " + Ok, "directory {d}/missing does not exist" },
        { "sign: missing CSR", "cert sign {d}/nope.csr {d}/root.crt {d}/root.key", "open {d}/nope.csr: no such file or directory" },
        { "sign: tampered CSR", "cert sign {d}/tampered.csr {d}/root.crt {d}/root.key", "error verifying {d}/tampered.csr: the certificate signing request signature is not valid" },
        { "sign: certificate instead of CSR", "cert sign {d}/root.crt {d}/root.crt {d}/root.key", "error decoding {d}/root.crt: unsupported PEM block type 'CERTIFICATE' (expected CERTIFICATE REQUEST)" },
        { "sign: issuer not a CA", "cert sign {d}/good.csr {d}/leaf.crt {d}/leaf.key", "{d}/leaf.crt is not a CA certificate" },
        { "sign: wrong issuer password", "cert sign {d}/good.csr {d}/enc.crt {d}/enc.key --password-file {d}/wrong.txt", "error decrypting {d}/enc.key: incorrect password" },
        { "sign: profile other than leaf", "cert sign {d}/good.csr {d}/root.crt {d}/root.key --profile root-ca", "invalid value 'root-ca' for flag '--profile'; options are leaf" },
        { "sign: RSA 1024 key in CSR", "cert sign {d}/rsa1024.csr {d}/root.crt {d}/root.key", "{d}/rsa1024.csr: the size of the RSA key should be at least 2048 bits" },
        { "--ca PEM without END line", "cert create x {d}/out.crt {d}/out.key --ca {d}/truncated.crt --ca-key {d}/root.key " + Ok, "error decoding {d}/truncated.crt: PEM block 'CERTIFICATE' has no END line" },
        { "bundle: missing CA", "cert bundle {d}/leaf.crt {d}/nope.crt {d}/out.crt", "open {d}/nope.crt: no such file or directory" },
        { "bundle: output exists without -f", "cert bundle {d}/leaf.crt {d}/issuer.crt {d}/existing.crt", "{d}/existing.crt already exists: use --force to overwrite it" },
        { "bundle: garbage input", "cert bundle {d}/garbage.crt {d}/issuer.crt {d}/out.crt", "PEM block 'CERTIFICATE' is not valid base64" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_is_refused_with_a_precise_message_and_nothing_written(string name, string command, string message)
    {
        using var dir = new TempDirectory("identity-cli-");
        CreateFixtures(dir);
        var before = Snapshot(dir.Path);

        var args = command.Replace("{d}", dir.Path, StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var result = IdentityCli.Run(args);

        Assert.True(result.ExitCode == 1, $"{name}: exit code {result.ExitCode}, stderr: {result.Stderr}");
        Assert.Contains(message.Replace("{d}", dir.Path, StringComparison.Ordinal), result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal(before, Snapshot(dir.Path));
    }

    [Fact]
    public void The_table_has_at_least_25_cases() => Assert.True(Cases.Count >= 25);

    private static void CreateFixtures(TempDirectory d)
    {
        const string ok = "--no-password";
        IdentityCli.RunOk("cert", "create", "Root", d["root.crt"], d["root.key"], "--profile", "root-ca", ok, "--insecure");
        IdentityCli.RunOk("cert", "create", "Issuer", d["issuer.crt"], d["issuer.key"], "--profile", "intermediate-ca", "--ca", d["root.crt"], "--ca-key", d["root.key"], ok, "--insecure");
        IdentityCli.RunOk("cert", "create", "leaf.example", d["leaf.crt"], d["leaf.key"], "--ca", d["issuer.crt"], "--ca-key", d["issuer.key"], ok, "--insecure");
        IdentityCli.RunOk("cert", "create", "Expired", d["expired.crt"], d["expired.key"], "--profile", "root-ca", "--not-before", "-48h", "--not-after", "-24h", ok, "--insecure");
        File.WriteAllText(d["pw.txt"], "right password\n");
        File.WriteAllText(d["wrong.txt"], "wrong password\n");
        File.WriteAllText(d["empty.txt"], " \n");
        IdentityCli.RunOk("cert", "create", "Encrypted", d["enc.crt"], d["enc.key"], "--profile", "intermediate-ca", "--ca", d["root.crt"], "--ca-key", d["root.key"], "--password-file", d["pw.txt"]);
        File.WriteAllText(d["garbage.crt"], "-----BEGIN CERTIFICATE-----\nthis is not base64!\n-----END CERTIFICATE-----\n");
        File.WriteAllText(d["text.txt"], "hello world\n");
        File.WriteAllText(d["existing.crt"], "keep me\n");
        File.WriteAllText(d["existing.key"], "keep me too\n");
        File.WriteAllText(d["chain.crt"], File.ReadAllText(d["issuer.crt"]) + File.ReadAllText(d["root.crt"]));
        IdentityCli.RunOk("cert", "create", "csr.example", d["good.csr"], d["good-csr.key"], "--csr", ok, "--insecure");

        File.WriteAllText(d["truncated.crt"], string.Join('\n', File.ReadAllText(d["root.crt"]).Split('\n').SkipLast(2)));
        using (var rsa = RSA.Create(1024))
        {
            var request = new CertificateRequest("CN=small", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            File.WriteAllText(d["rsa1024.csr"], request.CreateSigningRequestPem());
        }

        // Flip one bit inside the CSR's subject so the signature no longer verifies.
        var pem = File.ReadAllText(d["good.csr"]);
        var body = string.Concat(pem.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));
        var der = Convert.FromBase64String(body);
        var at = IndexOf(der, Encoding.ASCII.GetBytes("csr.example"));
        der[at] ^= 0x01;
        File.WriteAllText(d["tampered.csr"], "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CERTIFICATE REQUEST-----\n");
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        throw new InvalidOperationException("needle not found");
    }

    private static string Snapshot(string dir) =>
        string.Join('\n', Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => Path.GetRelativePath(dir, p) + " " + (File.Exists(p) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p))) : "dir")));
}
