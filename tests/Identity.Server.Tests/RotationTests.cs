using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Identity.Protocol;
using Identity.Server.Hosting;
using Identity.Server.Issuance;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Server.Tests;

public sealed class RotationTests
{
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    private static X509Certificate2? Served(TestServer server) =>
        server.App.Services.GetRequiredService<IssuerStore>().Current?.Issuer;

    [Fact]
    public async Task Rotating_issuer_twenty_times_under_load_never_fails_and_never_serves_a_bad_issuer()
    {
        await using var server = await TestServer.StartAsync();
        var ct = TestContext.Current.CancellationToken;
        var now = server.Time.GetUtcNow();
        var foreignRoot = new TestPki(now).Root("foreign-root", pathLength: 1);
        var good = new HashSet<string>(StringComparer.Ordinal) { server.Issuer.Certificate.Thumbprint };
        var bad = new HashSet<string>(StringComparer.Ordinal);
        var responses = new ConcurrentQueue<CertifyResponse>();
        var failures = new ConcurrentQueue<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var csr = TestCsr.Proxy(Web);

        async Task Load()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    responses.Enqueue(await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", csr), cancellationToken: CancellationToken.None));
                }
                catch (RpcException e)
                {
                    failures.Enqueue($"{e.StatusCode}: {e.Status.Detail}");
                }
            }
        }

        var loaders = new[] { Task.Run(Load, ct), Task.Run(Load, ct) };
        var goodSwaps = 0;
        for (var i = 0; i < 20; i++)
        {
            var before = Served(server)!.Thumbprint;
            var kind = (i % 4) switch { 0 or 2 => "good", 1 => "broken", _ => "foreign" };
            var next = kind == "foreign" ? new TestPki(now).Intermediate(foreignRoot) : new TestPki(now).Intermediate(server.Root);
            var keyPem = kind == "broken" ? new TestPki(now).Intermediate(server.Root).KeyPem : next.KeyPem;
            (kind == "good" ? good : bad).Add(next.Certificate.Thumbprint);
            ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, keyPem);

            // The deterministic path (the periodic re-read does the same); the watcher may have got there first.
            var result = IdentityServerHost.ReloadIssuer(server.App);
            if (kind == "good")
            {
                goodSwaps++;
                Assert.Contains(result, new[] { IssuerReloadResult.Updated, IssuerReloadResult.Unchanged });
                Assert.Equal(next.Certificate.Thumbprint, Served(server)!.Thumbprint);
            }
            else
            {
                Assert.NotEqual(IssuerReloadResult.Updated, result);
                Assert.Equal(before, Served(server)!.Thumbprint);
            }

            // Let some calls land on each issuer: wait for progress, bounded, not for a time.
            var target = responses.Count + failures.Count + 3;
            for (var spin = 0; spin < 2000 && responses.Count + failures.Count < target; spin++)
            {
                await Task.Yield();
                await Task.Delay(1, ct);
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(loaders);

        Assert.Empty(failures);
        Assert.True(responses.Count >= 40, $"only {responses.Count} calls completed");
        var servedIssuers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var response in responses)
        {
            using var leaf = X509CertificateLoader.LoadCertificate(response.LeafCertificate.ToByteArray());
            using var issuer = X509CertificateLoader.LoadCertificate(response.IntermediateCertificates[0].ToByteArray());
            Assert.DoesNotContain(issuer.Thumbprint, bad);
            Assert.Contains(issuer.Thumbprint, good);
            servedIssuers.Add(issuer.Thumbprint);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(server.Root.Certificate);
            chain.ChainPolicy.ExtraStore.Add(issuer);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationTime = server.Time.GetUtcNow().UtcDateTime;
            Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        }

        Assert.True(servedIssuers.Count >= 2, "leaves from more than one issuer");
        Assert.Equal(goodSwaps, server.Events.Events.Count(e => e == "IssuerUpdated"));
        Assert.True(server.Events.Events.Count(e => e.StartsWith("IssuerUpdateSkipped", StringComparison.Ordinal)) >= 10);
        Assert.Contains(server.Events.Events, e => e.Contains("tls: Public and private key do not match", StringComparison.Ordinal));
        Assert.Contains(server.Events.Events, e => e.Contains("x509: certificate signed by unknown authority", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Periodic_reread_picks_up_a_swap_the_watcher_missed()
    {
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false);
        var now = server.Time.GetUtcNow();
        var next = new TestPki(now).Intermediate(server.Root);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        Assert.Equal(server.Issuer.Certificate.Thumbprint, Served(server)!.Thumbprint);

        server.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(server.Issuer.Certificate.Thumbprint, Served(server)!.Thumbprint);
        server.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(next.Certificate.Thumbprint, Served(server)!.Thumbprint);
        Assert.Single(server.Events.Events, e => e == "IssuerUpdated");

        // Unchanged content on later ticks: no new event.
        server.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(server.Events.Events, e => e == "IssuerUpdated");
    }

    [Fact]
    public void A_read_that_straddles_a_data_swap_is_read_again_until_two_passes_agree()
    {
        // The old issuer's certificate with the new issuer's key: what one pass sees when ..data swaps between files.
        byte[] oldCrt = [1], oldKey = [2], newCrt = [3], newKey = [4], anchors = [5];
        var passes = new Queue<IssuerFiles>([new(oldCrt, newKey, anchors), new(newCrt, newKey, anchors), new(newCrt, newKey, anchors)]);
        var read = IssuerLoader.ReadConsistent(passes.Dequeue);
        Assert.Equal(newCrt, read.Certificate);
        Assert.Equal(newKey, read.Key);
        Assert.Empty(passes);

        // A settled directory costs two passes, and files that never settle are handed on after the last pass.
        var settled = new Queue<IssuerFiles>([new(oldCrt, oldKey, anchors), new(oldCrt.ToArray(), oldKey.ToArray(), anchors.ToArray()), new(newCrt, newKey, anchors)]);
        Assert.Equal(oldCrt, IssuerLoader.ReadConsistent(settled.Dequeue).Certificate);
        Assert.Single(settled);
        var count = 0;
        var restless = IssuerLoader.ReadConsistent(() => new IssuerFiles([(byte)count++], oldKey, anchors), maxPasses: 3);
        Assert.Equal(3, count);
        Assert.Equal([2], restless.Certificate);
    }

    [Fact]
    public async Task File_watcher_reloads_on_data_symlink_swap()
    {
        await using var server = await TestServer.StartAsync();
        var next = new TestPki(server.Time.GetUtcNow()).Intermediate(server.Root);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        // Waiting for an OS file event: bounded poll; the deterministic paths are covered by the other tests.
        for (var i = 0; i < 500 && Served(server)!.Thumbprint != next.Certificate.Thumbprint; i++)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(next.Certificate.Thumbprint, Served(server)!.Thumbprint);
    }

    [Fact]
    public async Task New_trust_anchors_are_reread_so_an_issuer_from_a_new_root_is_accepted()
    {
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false);
        var now = server.Time.GetUtcNow();
        var newRoot = new TestPki(now).Root("root-2", pathLength: 1);
        var next = new TestPki(now).Intermediate(newRoot);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, next.CertificatePem, next.KeyPem);
        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(server.Issuer.Certificate.Thumbprint, Served(server)!.Thumbprint);

        File.WriteAllText(server.AnchorsFile, TestPki.Pem(server.Root.Certificate, newRoot.Certificate));
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(next.Certificate.Thumbprint, Served(server)!.Thumbprint);
    }

    [Theory]
    [InlineData("not-ca", "failed to verify issuer certificate: it must be an intermediate-CA, but it is not")]
    [InlineData("expired", "x509: certificate has expired or is not yet valid")]
    // Go's Verify (Linkerd's check) requires serverAuth along the path by default; an EKU without it fails.
    [InlineData("client-auth-only", "x509: certificate specifies an incompatible key usage")]
    [InlineData("garbage-cert", "failed to read CA from disk: not a PEM certificate")]
    [InlineData("garbage-key", "failed to read CA from disk: no PEM block found in the key file")]
    [InlineData("unsupported-key", "failed to read CA from disk: unsupported block type: 'OPENSSH PRIVATE KEY'")]
    [InlineData("encrypted-pkcs8-key", "failed to read CA from disk: unsupported block type: 'ENCRYPTED PRIVATE KEY'")]
    [InlineData("ec-parameters-first", "failed to read CA from disk: unsupported block type: 'EC PARAMETERS'")]
    [InlineData("ed25519-key", "failed to read CA from disk: unsupported PKCS#8 encoded private key type: 'Ed25519', only ECDSA and RSA private keys are supported")]
    [InlineData("bad-base64-key", "PEM block 'EC PRIVATE KEY' is not valid base64")]
    [InlineData("legacy-encrypted-key", "the key is encrypted and no password was given")]
    public async Task Invalid_issuer_is_skipped_and_the_old_one_kept(string kind, string reason)
    {
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false);
        var now = server.Time.GetUtcNow();
        var next = kind switch
        {
            "not-ca" => new TestPki(now).Intermediate(server.Root, isCa: false),
            "expired" => new TestPki(now).Intermediate(server.Root, notBefore: now.AddDays(-10), notAfter: now + TimeSpan.FromDays(-5)),
            "client-auth-only" => new TestPki(now).Intermediate(server.Root, extendedKeyUsages: ["1.3.6.1.5.5.7.3.2"]),
            _ => new TestPki(now).Intermediate(server.Root),
        };
        var crt = kind == "garbage-cert" ? "hello\n" : next.CertificatePem;
        var key = kind switch
        {
            "garbage-key" => "nope\n",
            "unsupported-key" => "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "encrypted-pkcs8-key" => next.Key.ExportEncryptedPkcs8PrivateKeyPem("secret",
                new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc,
                    System.Security.Cryptography.HashAlgorithmName.SHA256, 1000)) + "\n",
            // What `openssl ecparam -genkey` writes; Linkerd reads only the first block.
            "ec-parameters-first" => "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + next.KeyPem,
            // RFC 8410's example Ed25519 key.
            "ed25519-key" => "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n",
            "bad-base64-key" => "-----BEGIN EC PRIVATE KEY-----\n!!not base64!!\n-----END EC PRIVATE KEY-----\n",
            "legacy-encrypted-key" => "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n"
                + next.KeyPem.Split('\n')[1] + "\n-----END EC PRIVATE KEY-----\n",
            _ => next.KeyPem,
        };
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, crt, key);

        Assert.Equal(IssuerReloadResult.Rejected, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Equal(server.Issuer.Certificate.Thumbprint, Served(server)!.Thumbprint);
        Assert.Contains(server.Events.Events, e => e.StartsWith("IssuerUpdateSkipped", StringComparison.Ordinal) && e.Contains(reason, StringComparison.Ordinal));
        // Re-reading the same broken content does not repeat the event.
        Assert.Equal(IssuerReloadResult.Unchanged, IdentityServerHost.ReloadIssuer(server.App));
        Assert.Single(server.Events.Events, e => e.StartsWith("IssuerUpdateSkipped", StringComparison.Ordinal));

        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(server.Issuer.Certificate.RawData, response.IntermediateCertificates[0].ToByteArray());
    }

    [Fact]
    public async Task Kubernetes_tls_scheme_reads_tls_crt_and_tls_key()
    {
        var now = TestServer.Now();
        await using var server = await TestServer.StartAsync(o => { o.IdentityScheme = "kubernetes.io/tls"; o.WatchFiles = false; }, writeIssuer: false, now: now);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, server.Issuer.CertificatePem, server.Issuer.KeyPem, "tls.crt", "tls.key");
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        var response = await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(response.LeafCertificate.IsEmpty);
    }

    [Fact]
    public async Task Pkcs8_issuer_key_loads()
    {
        var now = TestServer.Now();
        await using var server = await TestServer.StartAsync(o => o.WatchFiles = false, writeIssuer: false, now: now);
        ServerFixtures.WriteKubernetesIssuer(server.IssuerDirectory, server.Issuer.CertificatePem, server.Issuer.Key.ExportPkcs8PrivateKeyPem());
        Assert.Equal(IssuerReloadResult.Updated, IdentityServerHost.ReloadIssuer(server.App));
        _ = ECDsa.Create();
    }
}
