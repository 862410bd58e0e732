using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace Identity.Server.Tests;

public sealed class CertifyTests
{
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    [Fact]
    public async Task Certify_issues_linkerd_profile_leaf_that_openssl_verifies()
    {
        await using var server = await TestServer.StartAsync();
        var now = server.Time.GetUtcNow();
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var response = await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web, key)), cancellationToken: TestContext.Current.CancellationToken);

        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        Assert.Equal($"CN={Web}", leaf.Subject);
        Assert.Equal(server.Issuer.Certificate.Subject, leaf.Issuer);
        Assert.Equal(3, leaf.Version);
        Assert.Equal("1.2.840.10045.4.3.2", leaf.SignatureAlgorithm.Value);
        Assert.Equal(now.AddSeconds(-20), new DateTimeOffset(leaf.NotBefore.ToUniversalTime()));
        Assert.Equal(now + TimeSpan.FromHours(24) + TimeSpan.FromSeconds(20), new DateTimeOffset(leaf.NotAfter.ToUniversalTime()));
        Assert.Equal(leaf.NotAfter.ToUniversalTime(), response.ValidUntil.ToDateTime());
        Assert.Equal(16, leaf.GetSerialNumber().Length);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());

        var san = Assert.Single(leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal([Web], san.EnumerateDnsNames());
        Assert.Empty(san.EnumerateIPAddresses());
        var ku = Assert.Single(leaf.Extensions.OfType<X509KeyUsageExtension>());
        Assert.True(ku.Critical);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, ku.KeyUsages);
        var eku = Assert.Single(leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        var aki = Assert.Single(leaf.Extensions.OfType<X509AuthorityKeyIdentifierExtension>());
        var ski = Assert.Single(server.Issuer.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>());
        Assert.Equal(Convert.FromHexString(ski.SubjectKeyIdentifier!), aki.KeyIdentifier!.Value.ToArray());
        Assert.Empty(leaf.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.Empty(leaf.Extensions.OfType<X509SubjectKeyIdentifierExtension>());

        var intermediate = Assert.Single(response.IntermediateCertificates);
        Assert.Equal(server.Issuer.Certificate.RawData, intermediate.ToByteArray());

        // The real openssl, both as TLS server and client (the proxy needs both EKUs).
        var dir = Directory.CreateTempSubdirectory("identity-openssl-").FullName;
        File.WriteAllText(Path.Combine(dir, "root.pem"), server.Root.CertificatePem);
        File.WriteAllText(Path.Combine(dir, "issuer.pem"), server.Issuer.CertificatePem);
        File.WriteAllText(Path.Combine(dir, "leaf.pem"), leaf.ExportCertificatePem());
        foreach (var purpose in new[] { "sslserver", "sslclient" })
        {
            var (code, output) = await OpenSsl(dir, $"verify -purpose {purpose} -CAfile root.pem -untrusted issuer.pem leaf.pem");
            Assert.True(code == 0, output);
            Assert.Contains("leaf.pem: OK", output, StringComparison.Ordinal);
        }

        Assert.Equal(1, server.Events.Issued);
        Assert.Equal(1, server.IssuedCounter.Total);
        var audit = Assert.Single(server.Logs.Lines, l => l.EventId == 2000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(leaf.RawData));
        Assert.Contains(Web, audit.Message, StringComparison.Ordinal);
        Assert.Contains(sha, audit.Message, StringComparison.Ordinal);
        Assert.Contains(leaf.SerialNumber, audit.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sa:emojivoto:web", string.Join("\n", server.Logs.Lines.Select(l => l.Message)), StringComparison.Ordinal);
        Assert.Contains(server.Events.Events, e => e == $"IssuedLeafCertificate emojivoto/web issued certificate for {Web} until {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'}: {sha}");
    }

    [Fact]
    public async Task Log_lines_print_times_as_rfc3339_utc_not_in_the_culture_format()
    {
        // A fixed instant with a day above 12, so a month/day culture format cannot pass for the RFC 3339 one.
        var now = new DateTimeOffset(2026, 12, 24, 7, 8, 45, TimeSpan.Zero);
        await using var server = await TestServer.StartAsync(now: now);
        var response = await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: TestContext.Current.CancellationToken);
        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());

        var loaded = Assert.Single(server.Logs.Lines, l => l.EventId == 1000).Message;
        var issuerNotAfter = server.Issuer.Certificate.NotAfter.ToUniversalTime();
        Assert.Equal(
            $"Issuer cert loaded: subject={server.Issuer.Certificate.Subject} invalid_after={issuerNotAfter:yyyy-MM-dd'T'HH:mm:ss'Z'}"
            + $" ttl_seconds={(long)(issuerNotAfter - now.UtcDateTime).TotalSeconds} anchors=1",
            loaded);

        var audit = Assert.Single(server.Logs.Lines, l => l.EventId == 2000).Message;
        Assert.Equal(
            $"issued certificate for {Web} until 2026-12-25T07:09:05Z: {Convert.ToHexStringLower(SHA256.HashData(leaf.RawData))} serial={leaf.SerialNumber}",
            audit);
        Assert.DoesNotContain("+00:00", loaded + audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certify_builds_leaf_only_from_identity_and_clamps_to_issuer_file_expiry()
    {
        var now = TestServer.Now();
        var root = new TestPki(now).Root(pathLength: 1);
        // Issuer outlives the extra certificate in its file: the clamp uses the earliest NotAfter in the file.
        var issuer = new TestPki(now).Intermediate(root, notAfter: now + TimeSpan.FromDays(30));
        var extra = new TestPki(now).Intermediate(root, name: "extra", notAfter: now + TimeSpan.FromHours(10));
        await using var server = await TestServer.StartAsync(issuer: issuer, issuerExtraPem: extra.CertificatePem, now: now, root: root);

        var csr = TestCsr.Create($"CN={Web}, O=evil", s => s.AddDnsName(Web), ECDsa.Create(ECCurve.NamedCurves.nistP256),
            extra: r => r.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true)));
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", csr),
            cancellationToken: TestContext.Current.CancellationToken);

        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        Assert.Equal($"CN={Web}", leaf.Subject);
        Assert.Empty(leaf.Extensions.OfType<X509BasicConstraintsExtension>());
        Assert.Equal(extra.Certificate.NotAfter.ToUniversalTime(), leaf.NotAfter.ToUniversalTime());
        Assert.Equal(response.ValidUntil.ToDateTime(), leaf.NotAfter.ToUniversalTime());
        Assert.Equal([issuer.Certificate.RawData, extra.Certificate.RawData], response.IntermediateCertificates.Select(b => b.ToByteArray()));
    }

    [Fact]
    public async Task Certify_refusal_log_keeps_request_text_on_one_line()
    {
        await using var server = await TestServer.StartAsync();
        var identity = Web + "\nforged: issued certificate";
        await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(identity, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: TestContext.Current.CancellationToken));
        var refusal = Assert.Single(server.Logs.Lines, l => l.EventId == 2001);
        Assert.DoesNotContain('\n', refusal.Message);
        Assert.Contains("\\u000aforged", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certify_uses_generalized_time_from_2050()
    {
        var now = new DateTimeOffset(2049, 12, 31, 12, 0, 0, TimeSpan.Zero);
        await using var server = await TestServer.StartAsync(o => o.IssuanceLifetime = TimeSpan.FromHours(48), now: now);
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
        Assert.Equal(new DateTime(2049, 12, 31, 11, 59, 40, DateTimeKind.Utc), leaf.NotBefore.ToUniversalTime());
        Assert.Equal(new DateTime(2050, 1, 2, 12, 0, 20, DateTimeKind.Utc), leaf.NotAfter.ToUniversalTime());
        Assert.Equal(leaf.NotAfter.ToUniversalTime(), response.ValidUntil.ToDateTime());
    }

    public static TheoryData<string, string, string, string, StatusCode, string> BadRequests()
    {
        var web = ServerFixtures.IdentityOf("web", "emojivoto");
        var voting = ServerFixtures.IdentityOf("voting", "emojivoto");
        var other = ServerFixtures.IdentityOf("web", "other");
        return new()
        {
            { "empty identity", "", "sa:emojivoto:web", "proxy", StatusCode.InvalidArgument, "missing identity" },
            { "empty token", web, "", "proxy", StatusCode.InvalidArgument, "missing token" },
            { "empty csr", web, "sa:emojivoto:web", "empty", StatusCode.InvalidArgument, "missing certificate signing request" },
            { "garbage csr", web, "sa:emojivoto:web", "garbage", StatusCode.InvalidArgument, "failed to parse certificate signing request: not a DER PKCS#10 CertificationRequest" },
            { "no dns san", web, "sa:emojivoto:web", "no-san", StatusCode.FailedPrecondition, "CSR must have exactly one DNSName" },
            { "two dns sans", web, "sa:emojivoto:web", "two-sans", StatusCode.FailedPrecondition, "CSR must have exactly one DNSName" },
            { "san mismatch", web, "sa:emojivoto:web", "voting-san", StatusCode.FailedPrecondition, $"CSR name does not match requested identity: csr={voting}; req={web}" },
            { "cn mismatch", web, "sa:emojivoto:web", "cn-mismatch", StatusCode.FailedPrecondition, "invalid CommonName: someone-else" },
            { "email san", web, "sa:emojivoto:web", "email", StatusCode.FailedPrecondition, "cannot validate email addresses" },
            { "ip san", web, "sa:emojivoto:web", "ip", StatusCode.FailedPrecondition, "cannot validate IP addresses" },
            { "uri san", web, "sa:emojivoto:web", "uri", StatusCode.FailedPrecondition, "cannot validate URIs" },
            { "sha1 csr", web, "sa:emojivoto:web", "sha1", StatusCode.InvalidArgument, "CSR is signed with SHA-1, which is not accepted" },
            { "bad csr signature", web, "sa:emojivoto:web", "bad-signature", StatusCode.InvalidArgument, "CSR signature is invalid" },
            { "validator unavailable", web, "down", "proxy", StatusCode.Internal, $"error validating token for {web}: client rate limiter Wait returned an error: context deadline exceeded" },
            { "review error", web, "error:[invalid bearer token, square/go-jose: error in cryptographic primitive]", "proxy", StatusCode.InvalidArgument, "[invalid bearer token, square/go-jose: error in cryptographic primitive]" },
            { "unauthenticated", web, "unauth", "proxy", StatusCode.FailedPrecondition, "authentication token could not be authenticated" },
            { "username not system", web, "user:admin", "proxy", StatusCode.InvalidArgument, "Username must be in form system:TYPE:NS:SA: admin" },
            { "username 3 parts", web, "user:system:serviceaccount:web", "proxy", StatusCode.InvalidArgument, "Username must be in form system:TYPE:NS:SA: system:serviceaccount:web" },
            { "username wrong prefix", web, "user:kube:serviceaccount:emojivoto:web", "proxy", StatusCode.InvalidArgument, "Username must be in form system:TYPE:NS:SA: kube:serviceaccount:emojivoto:web" },
            { "username not label", web, "user:system:serviceaccount:Emoji_Voto:web", "proxy", StatusCode.InvalidArgument, "Not a label: Emoji_Voto" },
            { "wrong identity for token", voting, "sa:emojivoto:web", "voting", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={voting}; found={web}" },
            { "another namespace", other, "sa:emojivoto:web", "other", StatusCode.FailedPrecondition, $"requested identity did not match provided token: requested={other}; found={web}" },
            { "rsa key", web, "sa:emojivoto:web", "rsa", StatusCode.Internal, "CSR must contain an ECDSA public key: RSA" },
            { "p384 key", web, "sa:emojivoto:web", "p384", StatusCode.InvalidArgument, "CSR public key must use the P-256 curve, not P-384" },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Certify_rejects_bad_request_with_exact_code_and_message(
        string caseName, string identity, string token, string csrKind, StatusCode code, string message)
    {
        await using var server = await TestServer.StartAsync();
        var csr = MakeCsr(csrKind);
        var request = TestServer.Request(identity, token, csr);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.CertifyAsync(request, cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(code == error.StatusCode, $"{caseName}: {error.StatusCode} {error.Status.Detail}");
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(0, server.Events.Issued);
        Assert.Equal(0, server.AuditIssued);
        Assert.Equal(0, server.IssuedCounter.Total);
        var refusal = Assert.Single(server.Logs.Lines, l => l.EventId == 2001);
        Assert.Contains($"code={code}", refusal.Message, StringComparison.Ordinal);
        if (token.Length > 0)
        {
            Assert.DoesNotContain(server.Logs.Lines, l => l.Message.Contains(token, StringComparison.Ordinal) && token.StartsWith("sa:", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Certify_before_issuer_is_loaded_is_unavailable()
    {
        await using var server = await TestServer.StartAsync(writeIssuer: false);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("cert issuer not ready yet", error.Status.Detail);
        Assert.Equal(0, server.Events.Issued);
        Assert.Equal(0, server.AuditIssued);
        Assert.Equal(0, server.IssuedCounter.Total);
        Assert.Equal(0, server.Validator.Calls);
    }

    [Fact]
    public async Task Certify_with_expired_issuer_is_unknown_with_x509_message_and_event()
    {
        var now = TestServer.Now();
        var root = new TestPki(now).Root(pathLength: 1);
        var issuer = new TestPki(now).Intermediate(root, notAfter: now + TimeSpan.FromHours(2));
        await using var server = await TestServer.StartAsync(issuer: issuer, now: now, root: root);
        server.Time.Advance(TimeSpan.FromHours(3));
        var at = server.Time.GetUtcNow();

        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: TestContext.Current.CancellationToken));

        static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var notBefore = issuer.Certificate.NotBefore.ToUniversalTime();
        var notAfter = issuer.Certificate.NotAfter.ToUniversalTime();
        var expected = $"x509: certificate has expired or is not yet valid: current time {T(at)} is after {T(notAfter)}"
            + $" - Current Time : {T(at)} - Invalid before {T(notBefore)} - Invalid After {T(notAfter)}";
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.Equal(expected, error.Status.Detail);
        Assert.Contains($"IssuerValidationFailed {expected} {Web}", server.Events.Events);
        Assert.Equal(0, server.Events.Issued);
        Assert.Equal(0, server.AuditIssued);
        Assert.Equal(0, server.IssuedCounter.Total);
        Assert.Equal(0, server.Validator.Calls);
    }

    [Fact]
    public async Task Certify_same_csr_twice_is_parsed_once_and_both_calls_succeed()
    {
        await using var server = await TestServer.StartAsync();
        var csr = TestCsr.Proxy(Web);
        var first = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", csr), cancellationToken: TestContext.Current.CancellationToken);
        var second = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", csr), cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(first.LeafCertificate, second.LeafCertificate); // fresh serial each time
        Assert.Equal(1, ((Identity.Server.Issuance.CsrParser)server.App.Services.GetService(typeof(Identity.Server.Issuance.CsrParser))!).CachedCount);
        Assert.Equal(2, server.Events.Issued);
        Assert.Equal(2, server.IssuedCounter.Total);
    }

    private static byte[] MakeCsr(string kind)
    {
        var web = ServerFixtures.IdentityOf("web", "emojivoto");
        var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return kind switch
        {
            "proxy" => TestCsr.Proxy(web),
            "empty" => [],
            "garbage" => "fake-data"u8.ToArray(),
            "no-san" => TestCsr.Create($"CN={web}", null, p256),
            "two-sans" => TestCsr.Create($"CN={web}", s => { s.AddDnsName(web); s.AddDnsName("other.example"); }, p256),
            "voting-san" => TestCsr.Create("", s => s.AddDnsName(ServerFixtures.IdentityOf("voting", "emojivoto")), p256),
            "cn-mismatch" => TestCsr.Create("CN=someone-else", s => s.AddDnsName(web), p256),
            "email" => TestCsr.Create($"CN={web}", s => { s.AddDnsName(web); s.AddEmailAddress("a@b.c"); }, p256),
            "ip" => TestCsr.Create($"CN={web}", s => { s.AddDnsName(web); s.AddIpAddress(System.Net.IPAddress.Loopback); }, p256),
            "uri" => TestCsr.Create($"CN={web}", s => { s.AddDnsName(web); s.AddUri(new Uri("spiffe://cluster.local/ns/emojivoto/sa/web")); }, p256),
            "sha1" => TestCsr.Sha1(web),
            "bad-signature" => TestCsr.BadSignature(web),
            "voting" => TestCsr.Proxy(ServerFixtures.IdentityOf("voting", "emojivoto")),
            "other" => TestCsr.Proxy(ServerFixtures.IdentityOf("web", "other")),
            "rsa" => TestCsr.Create($"CN={web}", s => s.AddDnsName(web), RSA.Create(2048)),
            "p384" => TestCsr.Create($"CN={web}", s => s.AddDnsName(web), ECDsa.Create(ECCurve.NamedCurves.nistP384)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    internal static async Task<(int Code, string Output)> OpenSsl(string workingDirectory, string arguments)
    {
        var psi = new ProcessStartInfo("/usr/bin/openssl", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, stdout + stderr);
    }
}
