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

    /// <summary>Collects one counter's measurements from a given meter factory instance.</summary>
    public sealed class CounterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CounterRecorder(IMeterFactory factory, string instrument)
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Name == instrument && i.Meter.Name == KubernetesMetrics.MeterName && i.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
