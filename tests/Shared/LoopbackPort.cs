using System.Net;
using System.Net.Sockets;

namespace Identity.Testing;

/// <summary>Ports for servers a test starts itself (openssl s_server, identity serve, prometheus).</summary>
internal static class LoopbackPort
{
    /// <summary>A loopback port that was free a moment ago: the kernel picks it, the probe releases it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
