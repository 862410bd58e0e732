using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Identity.Client.Tests.Support;
using Identity.Protocol;

namespace Identity.Client.Tests;

public sealed class CertifyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Certify_happy_path_publishes_leaf_with_key_and_issuer()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        var changes = 0;
        client.CredentialsChanged += (_, _) => changes++;
        var token = client.GetChangeToken();

        var creds = await client.CertifyAsync(Ct);

        Assert.Same(creds, client.Current);
        Assert.Equal(Harness.LocalIdentity, creds.Identity);
        Assert.True(creds.Certificate.HasPrivateKey);
        var intermediate = Assert.Single(creds.Intermediates);
        Assert.Equal(h.Issuer.Certificate.Thumbprint, intermediate.Thumbprint);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(100), creds.NotAfter);
        Assert.Equal(1, changes);
        Assert.True(token.HasChanged);
        Assert.Same(creds, await client.WaitForCredentialsAsync(Ct));

        var seen = Assert.Single(h.Server.Seen);
        Assert.Equal(Harness.LocalIdentity, seen.Identity);
        Assert.Equal("token-1", seen.Token);
    }

    [Fact]
    public async Task Csr_is_P256_with_CN_and_exactly_one_DNS_SAN_and_is_reused_on_renewal()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        await client.CertifyAsync(Ct);
        await client.CertifyAsync(Ct);

        var requests = h.Server.Seen.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0].Csr, requests[1].Csr);

        // LoadSigningRequest checks the CSR's signature.
        var csr = CertificateRequest.LoadSigningRequest(requests[0].Csr, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.Equal("CN=" + Harness.LocalIdentity, csr.SubjectName.Name);
        var san = Assert.IsType<X509SubjectAlternativeNameExtension>(Assert.Single(csr.CertificateExtensions));
        Assert.Equal([Harness.LocalIdentity], san.EnumerateDnsNames().ToArray());
        Assert.Empty(san.EnumerateIPAddresses());
        using var key = csr.PublicKey.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(ECCurve.NamedCurves.nistP256.Oid.Value, key.ExportParameters(false).Curve.Oid.Value);
        // The CSR is signed with ecdsa-with-SHA256 (OID 1.2.840.10045.4.3.2).
        Assert.True(ContainsSequence(requests[0].Csr, [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]));
    }

    [Fact]
    public async Task Missing_valid_until_is_refused_and_current_kept()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        var first = await client.CertifyAsync(Ct);
        h.Server.Behavior = (r, _) =>
        {
            var response = h.Server.Sign(r, TimeSpan.FromSeconds(100));
            response.ValidUntil = null;
            return Task.FromResult(response);
        };

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.MissingValidUntil, ex.Reason);
        Assert.Contains("no valid_until", ex.Message, StringComparison.Ordinal);
        Assert.Same(first, client.Current);
    }

    [Fact]
    public async Task Past_valid_until_is_refused()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) =>
        {
            var response = h.Server.Sign(r, TimeSpan.FromSeconds(100));
            response.ValidUntil = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(h.Time.GetUtcNow() - TimeSpan.FromSeconds(1));
            return Task.FromResult(response);
        };

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.ValidUntilNotInFuture, ex.Reason);
        Assert.Null(client.Current);
    }

    [Fact]
    public async Task Chain_to_a_foreign_root_is_refused()
    {
        await using var h = await Harness.StartAsync();
        using var foreignRoot = new TestPki(h.Time).Root("foreign-root");
        using var foreignIssuer = new TestPki(h.Time).Intermediate(foreignRoot, "foreign-issuer");
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) => Task.FromResult(h.Server.Sign(r, TimeSpan.FromSeconds(100), foreignIssuer));

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.UntrustedChain, ex.Reason);
        Assert.Equal("leaf certificate does not chain to the trust anchors", ex.Message);
        Assert.Null(client.Current);
    }

    [Fact]
    public async Task Chain_without_the_issuer_is_refused()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Intermediates = [];

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.UntrustedChain, ex.Reason);
    }

    [Fact]
    public async Task Leaf_not_yet_valid_on_our_clock_is_refused()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) =>
        {
            // The server's clock is an hour ahead (issue #6427: CertNotValidYet on the proxy).
            var ahead = h.Time.GetUtcNow().AddHours(1);
            using var leaf = TestPki.SignCsr(h.Issuer, r.CertificateSigningRequest.ToByteArray(), ahead, ahead.AddHours(24));
            var response = h.Server.Sign(r, TimeSpan.FromSeconds(100));
            response.LeafCertificate = Google.Protobuf.ByteString.CopyFrom(leaf.RawData);
            response.ValidUntil = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(ahead.AddHours(24));
            return Task.FromResult(response);
        };

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.NotTimeValid, ex.Reason);
        Assert.StartsWith("leaf certificate is not valid before ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_yields_the_current_then_every_new_snapshot()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        var first = await client.CertifyAsync(Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var watch = client.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        Assert.True(await watch.MoveNextAsync());
        Assert.Same(first, watch.Current);
        var second = await client.CertifyAsync(Ct);
        Assert.True(await watch.MoveNextAsync());
        Assert.Same(second, watch.Current);
        await cts.CancelAsync();
        Assert.False(await watch.MoveNextAsync());
    }

    [Fact]
    public async Task Wrong_SAN_is_refused()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) => Task.FromResult(h.Server.Sign(r, TimeSpan.FromSeconds(100), overrideDnsName: "evil.default.serviceaccount.identity.linkerd.cluster.local"));

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.IdentityMismatch, ex.Reason);
        Assert.Equal($"leaf identity evil.default.serviceaccount.identity.linkerd.cluster.local does not match expected {Harness.LocalIdentity}", ex.Message);
    }

    [Fact]
    public async Task Leaf_for_another_key_is_refused()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) =>
        {
            using var other = new TestPki(h.Time).Leaf(h.Issuer, Harness.LocalIdentity, h.Time.GetUtcNow(), h.Time.GetUtcNow().AddMinutes(5)).CertificateWithKey();
            var response = h.Server.Sign(r, TimeSpan.FromSeconds(100));
            response.LeafCertificate = Google.Protobuf.ByteString.CopyFrom(other.RawData);
            return Task.FromResult(response);
        };

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.KeyMismatch, ex.Reason);
    }

    [Fact]
    public async Task Garbage_leaf_is_refused_as_malformed()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (r, _) =>
        {
            var response = h.Server.Sign(r, TimeSpan.FromSeconds(100));
            response.LeafCertificate = Google.Protobuf.ByteString.CopyFromUtf8("not a certificate");
            return Task.FromResult(response);
        };

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.MalformedCertificate, ex.Reason);
        Assert.StartsWith("leaf_certificate is not a DER certificate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_token_file_fails_without_calling_the_service()
    {
        await using var h = await Harness.StartAsync();
        File.WriteAllText(h.TokenFile, string.Empty);
        var client = h.CreateClient();

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.TokenEmpty, ex.Reason);
        Assert.Equal($"token file {h.TokenFile} is empty", ex.Message);
        Assert.Empty(h.Server.Seen);
    }

    [Fact]
    public async Task Missing_token_file_fails_without_calling_the_service()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient(o => o.TokenFile = h.Dir.File("absent"));

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.TokenUnreadable, ex.Reason);
        Assert.Empty(h.Server.Seen);
    }

    [Fact]
    public async Task Token_file_is_reread_on_every_call()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        await client.CertifyAsync(Ct);
        File.WriteAllText(h.TokenFile, "token-2-rotated");
        await client.CertifyAsync(Ct);

        Assert.Equal(["token-1", "token-2-rotated"], h.Server.Seen.Select(s => s.Token).ToArray());
    }

    [Fact]
    public async Task Server_error_is_reported_with_status_and_detail()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.FailedPrecondition, "token review failed"));

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.ServerError, ex.Reason);
        Assert.Equal("identity service returned FailedPrecondition: token review failed", ex.Message);
        Assert.DoesNotContain("token-1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_deadline_is_driven_by_the_time_provider()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient(o => o.CallTimeout = TimeSpan.FromSeconds(5));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Server.Behavior = async (_, ctx) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            throw new InvalidOperationException("unreachable");
        };

        var call = client.CertifyAsync(Ct);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        h.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(call.IsCompleted);
        h.Time.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<CertifyException>(() => call.WaitAsync(TimeSpan.FromSeconds(20), Ct));
        Assert.Equal(CertifyFailureReason.DeadlineExceeded, ex.Reason);
    }

    [Fact]
    public async Task Unreachable_service_is_a_server_error()
    {
        await using var h = await Harness.StartAsync();
        await h.Server.DisposeAsync();
        var client = h.CreateClient();

        var ex = await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(Ct));

        Assert.Equal(CertifyFailureReason.ServerError, ex.Reason);
        Assert.Contains("Unavailable", ex.Message, StringComparison.Ordinal);
    }

    private static bool ContainsSequence(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
