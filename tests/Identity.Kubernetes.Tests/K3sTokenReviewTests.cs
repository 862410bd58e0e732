using System.Diagnostics;
using System.Text;
using Identity.Server.Tokens;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Testcontainers.K3s;

namespace Identity.Kubernetes.Tests;

/// <summary>Against a real API server (k3s in Docker). Skipped quickly where no Docker engine answers.</summary>
public sealed class K3sTokenReviewTests
{
    private const string K3sImage = "rancher/k3s:v1.31.5-k3s1";

    [Fact]
    public async Task Real_service_account_token_is_reviewed_by_a_real_api_server()
    {
        var reason = DockerProbe.WhyUnavailable();
        if (reason is not null)
        {
            Assert.Skip("Docker is not available: " + reason);
        }

        var ct = TestContext.Current.CancellationToken;
        await using var k3s = new K3sBuilder(K3sImage).Build();
        await k3s.StartAsync(ct);
        var dir = Directory.CreateTempSubdirectory("k3s").FullName;
        try
        {
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, await k3s.GetKubeconfigAsync(), ct);
            using var client = KubernetesClientFactory.Create(kubeconfig, qps: 100, burst: 200);
            await KubernetesAccessCheck.EnsureCanCreateTokenReviewsAsync(client, ct);

            await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "web" } }, "default", cancellationToken: ct);
            async Task<string> RequestToken(string audience)
            {
                var request = new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { Audiences = [audience], ExpirationSeconds = 3600 } };
                var response = await client.CoreV1.CreateNamespacedServiceAccountTokenAsync(request, "web", "default", cancellationToken: ct);
                return response.Status.Token;
            }

            using var validator = new KubernetesTokenReviewValidator(client, new TokenValidationOptions(), TimeProvider.System,
                TestSupport.MeterFactory(), NullLogger<KubernetesTokenReviewValidator>.Instance);

            var linkerd = await validator.ReviewAsync(Encoding.UTF8.GetBytes(await RequestToken("identity.l5d.io")), ct);
            Assert.True(linkerd.Authenticated, linkerd.Error);
            Assert.Equal("system:serviceaccount:default:web", linkerd.Username);
            Assert.NotNull(linkerd.ExpiresAt);

            // A token for another audience fails the first review on audience and the fallback on the default audiences.
            var vault = await validator.ReviewAsync(Encoding.UTF8.GetBytes(await RequestToken("vault")), ct);
            Assert.False(vault.Authenticated);
            Assert.False(string.IsNullOrEmpty(vault.Error));

            var garbage = await validator.ReviewAsync(Encoding.UTF8.GetBytes("not-a-token"), ct);
            Assert.False(garbage.Authenticated);

            // The same real token also verifies locally against the cluster's own JWKS (jwks mode).
            var configuration = k8s.KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
            var caFile = Path.Combine(dir, "ca.crt");
            await File.WriteAllTextAsync(caFile, string.Concat(configuration.SslCaCerts.Select(c => c.ExportCertificatePem() + "\n")), ct);
            var bearerFile = Path.Combine(dir, "token");
            var token = await RequestToken("identity.l5d.io");
            await File.WriteAllTextAsync(bearerFile, token, ct);
            var apiServer = configuration.Host.TrimEnd('/');
            var jwksOptions = new TokenValidationOptions
            {
                Mode = TokenValidationMode.Jwks,
                // The JWT's own iss is what the cluster's discovery document advertises; its jwks_uri names the
                // node's internal address, so fetch the key set through the mapped API port instead.
                TokenIssuer = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Issuer,
                Jwks = apiServer + "/openid/v1/jwks",
                JwksCaFile = caFile,
                JwksBearerTokenFile = bearerFile,
            };
            using var keys = new JwksKeyProvider(JwksSource.Parse(jwksOptions.Jwks, jwksOptions.TokenIssuer), jwksOptions, null,
                TimeProvider.System, TestSupport.MeterFactory(), NullLogger<JwksKeyProvider>.Instance);
            var jwks = new JwksTokenValidator(jwksOptions, keys, TimeProvider.System, TestSupport.MeterFactory(), NullLogger<JwksTokenValidator>.Instance);
            var local = await jwks.ReviewAsync(Encoding.UTF8.GetBytes(token), ct);
            Assert.True(local.Authenticated, local.Error);
            Assert.Equal("system:serviceaccount:default:web", local.Username);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Finds out, within about a second, whether a Docker engine answers here.</summary>
internal static class DockerProbe
{
    public static string? WhyUnavailable()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (string.IsNullOrEmpty(host))
        {
            if (!File.Exists("/var/run/docker.sock"))
            {
                return "/var/run/docker.sock does not exist and DOCKER_HOST is not set";
            }
        }
        else if (host.StartsWith("unix://", StringComparison.Ordinal) && !File.Exists(host["unix://".Length..]))
        {
            return $"DOCKER_HOST socket {host} does not exist";
        }

        try
        {
            using var docker = Process.Start(new ProcessStartInfo("docker", "version --format {{.Server.Version}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (docker is null)
            {
                return "could not start the docker CLI";
            }

            if (!docker.WaitForExit(TimeSpan.FromSeconds(1.5)))
            {
                docker.Kill(entireProcessTree: true);
                return "`docker version` did not answer within 1.5 s";
            }

            return docker.ExitCode == 0 ? null : "`docker version` failed: " + docker.StandardError.ReadToEnd().Trim();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return "the docker CLI is not installed: " + e.Message;
        }
    }
}
