using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Client.Tests.Support;

/// <summary>Root, issuer, fake identity service, token file and a fake clock for one test.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public const string LocalIdentity = "web.emojivoto.serviceaccount.identity.linkerd.cluster.local";

    private readonly List<IdentityClient> _clients = [];
    private readonly List<IDisposable> _owned = [];

    private Harness(DateTimeOffset start)
    {
        Time = new FakeTimeProvider(start);
        var pki = new TestPki(start);
        Root = pki.Root("root.linkerd.cluster.local");
        Issuer = pki.Intermediate(Root, "identity.linkerd.cluster.local");
        Server = new FakeIdentityServer(Issuer, Time);
        TokenFile = Dir.Write("token", "token-1");
    }

    public FakeTimeProvider Time { get; }

    public TestCredential Root { get; }

    public TestCredential Issuer { get; }

    public FakeIdentityServer Server { get; }

    public TempDirectory Dir { get; } = new("identity-client-tests-");

    public string TokenFile { get; }

    /// <summary>Starts the fake service: h2c, or TLS when <paramref name="tls"/> configures the Kestrel endpoint.</summary>
    public static async Task<Harness> StartAsync(Func<Harness, Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions>>? tls = null)
    {
        // Whole seconds, because certificate times have second precision.
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var harness = new Harness(now);
        await harness.Server.StartAsync(tls?.Invoke(harness));
        return harness;
    }

    /// <summary>Disposes <paramref name="item"/> with the harness.</summary>
    public T Track<T>(T item)
        where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    public IdentityClientOptions Options(Action<IdentityClientOptions>? tweak = null)
    {
        var options = new IdentityClientOptions
        {
            Address = Server.Address,
            LocalIdentity = LocalIdentity,
            TokenFile = TokenFile,
            TrustAnchorsPem = Root.Certificate.ExportCertificatePem(),
        };
        tweak?.Invoke(options);
        return options;
    }

    public IdentityClient CreateClient(Action<IdentityClientOptions>? tweak = null, Func<double>? random = null)
    {
        var client = new IdentityClient(Options(tweak), Time, logger: null, meterFactory: null, random);
        _clients.Add(client);
        return client;
    }

    /// <summary>Records every scheduled attempt of <paramref name="client"/>.</summary>
    public static ChannelReader<ScheduledAttempt> Schedules(IdentityClient client)
    {
        var channel = Channel.CreateUnbounded<ScheduledAttempt>();
        client.Scheduled += s => channel.Writer.TryWrite(s);
        return channel.Reader;
    }

    /// <summary>Waits (bounded by real time, only as a hang guard) for the loop's next scheduling decision.</summary>
    public static async Task<ScheduledAttempt> NextAsync(ChannelReader<ScheduledAttempt> reader)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        return await reader.ReadAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            await c.DisposeAsync();
        }

        await Server.DisposeAsync();
        foreach (var o in _owned)
        {
            o.Dispose();
        }

        Issuer.Dispose();
        Root.Dispose();
        Dir.Dispose();
    }
}
