using System.Net;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Verification;

namespace Identity.Pki.Tests.Verification;

public sealed class ChainVerifierTests
{
    private static readonly DateTimeOffset AfterMade = TestPaths.StepMade.AddDays(5);
    private static readonly DateTimeOffset During = VerificationPki.Start.AddHours(1);

    [Fact]
    public void Step_chain_verifies_against_step_root_until_the_issuer_expires()
    {
        var chain = CertificateFile.ReadCertificates(TestPaths.StepFile("chain.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("root.crt"));

        var result = ChainVerifier.Verify(chain[0], chain.Skip(1), roots, AfterMade);

        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.Error);
        Assert.Equal(3, result.Chain.Count);
        Assert.Same(chain[0], result.Chain[0]);
        Assert.Same(roots.Certificates[0], result.Chain[2]);

        var afterIssuer = ChainVerifier.Verify(chain[0], chain.Skip(1), roots, TestPaths.StepMade.AddYears(1).AddDays(1));
        Assert.Equal(ChainVerificationStatus.Expired, afterIssuer.Status);
        Assert.Equal(
            "x509: certificate has expired or is not yet valid: current time 2027-11-27T11:21:55Z is after 2027-11-26T11:21:55Z",
            afterIssuer.Error);
        Assert.Equal(chain[1].Thumbprint, afterIssuer.Certificate!.Thumbprint);
    }

    [Fact]
    public void Step_chain_against_foreign_root_is_unknown_authority_worded_like_step()
    {
        var chain = CertificateFile.ReadCertificates(TestPaths.StepFile("chain.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("rsa-root.crt"));

        var result = ChainVerifier.Verify(chain[0], chain.Skip(1), roots, AfterMade);

        Assert.Equal(ChainVerificationStatus.UnknownAuthority, result.Status);
        var expected = File.ReadAllText(TestPaths.StepFile("verify-fail.txt")).Split('\n')[0];
        Assert.Equal(expected, "failed to verify certificate: " + result.Error);
    }

    [Fact]
    public void Step_chain_with_wrong_host_is_worded_like_step()
    {
        var chain = CertificateFile.ReadCertificates(TestPaths.StepFile("chain.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("root.crt"));

        var result = ChainVerifier.Verify(chain[0], chain.Skip(1), roots, AfterMade, "other.example.com");

        Assert.Equal(ChainVerificationStatus.HostMismatch, result.Status);
        var expected = File.ReadAllText(TestPaths.StepFile("verify-host-fail.txt")).Split('\n')[0];
        Assert.Equal(expected, "failed to verify certificate: " + result.Error);
        Assert.True(ChainVerifier.Verify(
            chain[0], chain.Skip(1), roots, AfterMade, "WEB.test.serviceaccount.identity.linkerd.cluster.local.").IsValid);
    }

    [Fact]
    public void Step_leaf_expires_a_day_after_it_was_made()
    {
        var leaf = CertificateFile.ReadCertificates(TestPaths.StepFile("leaf.crt"))[0];
        var issuer = CertificateFile.ReadCertificates(TestPaths.StepFile("issuer.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("root.crt"));

        Assert.True(ChainVerifier.Verify(leaf, issuer, roots, TestPaths.StepMade.AddHours(1)).IsValid);
        var expired = ChainVerifier.Verify(leaf, issuer, roots, TestPaths.StepMade.AddDays(2));
        Assert.Equal(ChainVerificationStatus.Expired, expired.Status);
        Assert.Equal(
            "x509: certificate has expired or is not yet valid: current time 2026-11-28T11:21:55Z is after 2026-11-27T11:21:55Z",
            expired.Error);
        var early = ChainVerifier.Verify(leaf, issuer, roots, TestPaths.StepMade.AddSeconds(-1));
        Assert.Equal(ChainVerificationStatus.NotYetValid, early.Status);
        Assert.Equal(
            "x509: certificate has expired or is not yet valid: current time 2026-11-26T11:21:54Z is before 2026-11-26T11:21:55Z",
            early.Error);
    }

    [Fact]
    public void Rsa_step_chain_verifies()
    {
        var leaf = CertificateFile.ReadCertificates(TestPaths.StepFile("rsa-leaf-long.crt"))[0];
        var issuer = CertificateFile.ReadCertificates(TestPaths.StepFile("rsa-issuer.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("rsa-root.crt"));

        Assert.True(ChainVerifier.Verify(leaf, issuer, roots, AfterMade, "rsa.example.com").IsValid);
        Assert.Equal(ChainVerificationStatus.UnknownAuthority,
            ChainVerifier.Verify(leaf, issuer, TrustBundle.Load(TestPaths.StepFile("root.crt")), AfterMade).Status);
    }

    [Fact]
    public void Bundle_with_several_roots_accepts_chains_to_any_of_them()
    {
        var chain = CertificateFile.ReadCertificates(TestPaths.StepFile("chain.crt"));
        var roots = TrustBundle.Load(TestPaths.StepFile("rsa-root.crt") + "," + TestPaths.StepFile("root.crt"));

        Assert.Equal(2, roots.Certificates.Count);
        Assert.True(ChainVerifier.Verify(chain[0], chain.Skip(1), roots, AfterMade).IsValid);
    }

    [Fact]
    public void Ed25519_root_verifies_as_its_own_anchor_through_the_platform_engine()
    {
        var ed = CertificateFile.ReadCertificates(TestPaths.StepFile("ed-root.crt"))[0];
        var bundle = TrustBundle.FromCertificates([ed]);

        var result = ChainVerifier.Verify(ed, null, bundle, AfterMade);

        Assert.True(result.IsValid, $"{result.Status}: {result.Error}");
        var foreign = ChainVerifier.Verify(ed, null, TrustBundle.Load(TestPaths.StepFile("root.crt")), AfterMade);
        Assert.False(foreign.IsValid);
    }

    public static TheoryData<string> FailureCases() =>
    [
        "foreign root", "expired leaf", "not yet valid leaf", "wrong host", "missing intermediate",
        "non-CA intermediate", "path length exceeded", "bad signature", "expired intermediate", "expired root",
        "IP host without IP SANs", "wrong IP",
    ];

    [Theory]
    [MemberData(nameof(FailureCases))]
    public void Failure_reasons_are_classified_and_worded_like_go(string scenario)
    {
        var root = VerificationPki.Ca.Root("Test Root");
        var intermediate = VerificationPki.Ca.Intermediate(root, "Test Intermediate", pathLength: null);
        var leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com", ipAddresses: [IPAddress.Parse("10.0.0.1")]);
        var anchors = TrustBundle.FromCertificates([root.Certificate]);
        X509Certificate2[] pool = [intermediate.Certificate];
        var at = During;
        string? host = null;
        ChainVerificationStatus expectedStatus;
        string expectedError;

        switch (scenario)
        {
            case "foreign root":
                anchors = TrustBundle.FromCertificates([VerificationPki.Ca.Root("Test Root").Certificate]);
                expectedStatus = ChainVerificationStatus.UnknownAuthority;
                expectedError = "x509: certificate signed by unknown authority";
                break;
            case "expired leaf":
                at = VerificationPki.Start.AddDays(2);
                expectedStatus = ChainVerificationStatus.Expired;
                expectedError = "x509: certificate has expired or is not yet valid: current time 2030-01-03T00:00:00Z is after 2030-01-02T00:00:00Z";
                break;
            case "not yet valid leaf":
                at = VerificationPki.Start.AddMinutes(-1);
                expectedStatus = ChainVerificationStatus.NotYetValid;
                expectedError = "x509: certificate has expired or is not yet valid: current time 2029-12-31T23:59:00Z is before 2030-01-01T00:00:00Z";
                break;
            case "wrong host":
                host = "other.example.com";
                expectedStatus = ChainVerificationStatus.HostMismatch;
                expectedError = "x509: certificate is valid for leaf.example.com, not other.example.com";
                break;
            case "IP host without IP SANs":
                leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
                host = "10.0.0.2";
                expectedStatus = ChainVerificationStatus.HostMismatch;
                expectedError = "x509: cannot validate certificate for 10.0.0.2 because it doesn't contain any IP SANs";
                break;
            case "wrong IP":
                host = "10.0.0.2";
                expectedStatus = ChainVerificationStatus.HostMismatch;
                expectedError = "x509: certificate is valid for 10.0.0.1, not 10.0.0.2";
                break;
            case "missing intermediate":
                pool = [];
                expectedStatus = ChainVerificationStatus.UnknownAuthority;
                expectedError = "x509: certificate signed by unknown authority";
                break;
            case "non-CA intermediate":
                intermediate = VerificationPki.Ca.Intermediate(root, "Not A CA", isCa: null, keyUsage: X509KeyUsageFlags.DigitalSignature);
                leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
                pool = [intermediate.Certificate];
                expectedStatus = ChainVerificationStatus.NotCertificateAuthority;
                expectedError = "x509: certificate is not authorized to sign other certificates";
                break;
            case "path length exceeded":
                var constrained = VerificationPki.Ca.Intermediate(root, "Constrained", pathLength: 0);
                intermediate = VerificationPki.Ca.Intermediate(constrained, "Below Constrained", pathLength: null);
                leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
                pool = [constrained.Certificate, intermediate.Certificate];
                expectedStatus = ChainVerificationStatus.PathLengthExceeded;
                expectedError = "x509: too many intermediates for path length constraint";
                break;
            case "bad signature":
                // Same issuer name as the trusted root and no AKI, but signed by an impostor's key.
                var impostor = VerificationPki.Ca.Root("Test Root");
                leaf = VerificationPki.Ca.Leaf(impostor, "leaf.example.com", authorityKeyIdentifier: false);
                pool = [];
                expectedStatus = ChainVerificationStatus.BadSignature;
                expectedError = "x509: certificate signed by unknown authority (possibly because of \"signature verification failed\" while trying to verify candidate authority certificate \"Test Root\")";
                break;
            case "expired intermediate":
                intermediate = VerificationPki.Ca.Intermediate(root, "Short Intermediate", notAfter: VerificationPki.Start.AddMinutes(30), pathLength: null);
                leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
                pool = [intermediate.Certificate];
                expectedStatus = ChainVerificationStatus.Expired;
                expectedError = "x509: certificate has expired or is not yet valid: current time 2030-01-01T01:00:00Z is after 2030-01-01T00:30:00Z";
                break;
            case "expired root":
                root = VerificationPki.Ca.Root("Short Root", notAfter: VerificationPki.Start.AddMinutes(30));
                intermediate = VerificationPki.Ca.Intermediate(root, "Test Intermediate", pathLength: null);
                leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
                anchors = TrustBundle.FromCertificates([root.Certificate]);
                pool = [intermediate.Certificate];
                expectedStatus = ChainVerificationStatus.Expired;
                expectedError = "x509: certificate has expired or is not yet valid: current time 2030-01-01T01:00:00Z is after 2030-01-01T00:30:00Z";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null);
        }

        var result = ChainVerifier.Verify(leaf.Certificate, pool, anchors, at, host);

        Assert.False(result.IsValid);
        Assert.Equal(expectedStatus, result.Status);
        Assert.Equal(expectedError, result.Error);
    }

    [Fact]
    public void Generated_chain_verifies_with_host_ip_and_wildcard_rules()
    {
        var root = VerificationPki.Ca.Root("Test Root", pathLength: 1);
        var intermediate = VerificationPki.Ca.Intermediate(root, "Test Intermediate", pathLength: 0);
        var leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com", ipAddresses: [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("::1")]);
        var anchors = TrustBundle.FromCertificates([root.Certificate]);

        Assert.True(ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, During).IsValid);
        Assert.True(ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, During, "10.0.0.1").IsValid);
        Assert.True(ChainVerifier.Verify(leaf.Certificate, [intermediate.Certificate], anchors, During, "[::1]").IsValid);
        Assert.True(ChainVerifier.MatchHostname("*.example.com", "a.example.com"));
        Assert.False(ChainVerifier.MatchHostname("*.example.com", "example.com"));
        Assert.False(ChainVerifier.MatchHostname("*.example.com", "a.b.example.com"));
        Assert.False(ChainVerifier.MatchHostname("a.*.com", "a.b.com"));
    }

    [Fact]
    public void Verification_is_safe_to_run_concurrently_with_a_shared_bundle()
    {
        var root = VerificationPki.Ca.Root("Test Root");
        var intermediate = VerificationPki.Ca.Intermediate(root, "Test Intermediate", pathLength: null);
        var leaf = VerificationPki.Ca.Leaf(intermediate, "leaf.example.com");
        var foreign = VerificationPki.Ca.Leaf(VerificationPki.Ca.Root("Other"), "x.example.com");
        var anchors = TrustBundle.FromCertificates([root.Certificate]);

        var results = new ChainVerificationStatus[64];
        Parallel.For(0, results.Length, i =>
        {
            var subject = i % 2 == 0 ? leaf.Certificate : foreign.Certificate;
            results[i] = ChainVerifier.Verify(subject, [intermediate.Certificate], anchors, During).Status;
        });

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? ChainVerificationStatus.Valid : ChainVerificationStatus.UnknownAuthority, results[i]);
        }
    }
}
