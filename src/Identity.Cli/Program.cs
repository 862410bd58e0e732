using System.CommandLine;
using Identity.Cli;

var root = new RootCommand("Identity: a Linkerd-compatible certificate authority for service meshes.");
foreach (var command in Commands.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
