using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Kubernetes.Tests;

internal static class TestSupport
{
    public static IMeterFactory MeterFactory() =>
        new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    /// <summary>A JWT-shaped token with the given <c>exp</c> (the TokenReview path never checks its signature).</summary>
    public static string OpaqueJwt(DateTimeOffset? expiresAt, string nonce = "n")
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"RS256","kid":"k1"}""");
        var exp = expiresAt is { } e ? $",\"exp\":{e.ToUnixTimeSeconds()}" : "";
        var payload = Base64UrlEncoder.Encode($"{{\"sub\":\"system:serviceaccount:default:default\",\"nonce\":\"{nonce}\"{exp}}}");
        return $"{header}.{payload}.c2lnbmF0dXJl";
    }

    public static ReadOnlyMemory<byte> Bytes(string token) => Encoding.UTF8.GetBytes(token);
}
