/**
 * staprun 4.8's usage text (47 lines, printed on stdout for usage errors and `-h`, docs/systemtap-4.8.md 1.2), copied from
 * Debian 12's `/usr/bin/staprun -h`. It starts with an empty line, names the program as it was invoked, and ends
 * with the kernel's module directory. Note the trailing space after "4095" in the original.
 * @module
 */

/** The usage text for program name `argv0` on kernel `release`. */
export function staprunUsage(argv0: string, release: string): string {
  return `\n${argv0} [-v] [-w] [-V] [-h] [-u] [-c cmd ] [-x pid] [-u user] [-A|-L|-d] [-C WHEN]
\t[-b bufsize] [-R] [-r N:URI] [-o FILE [-D] [-S size[,N]]] MODULE [module-options]
-v              Increase verbosity.
-V              Print version number and exit.
-h              Print this help text and exit.
-w              Suppress warnings.
-u              Load uprobes.ko
-c cmd          Command 'cmd' will be run and staprun will
                exit when it does.  The '_stp_target' variable
                will contain the pid for the command.
-x pid          Sets the '_stp_target' variable to pid.
-N pid          Sets the '_stp_namespaces_pid' variable to pid.
-o FILE         Send output to FILE. This supports strftime(3)
                formats for FILE.
-b buffer size  The systemtap module specifies a buffer size.
                Setting one here will override that value.  The
                value should be an integer between 1 and 4095 
                which be assumed to be the buffer size in MB.
                That value will be per-cpu in bulk mode.
-L              Load module and start probes, then detach.
-A              Attach to loaded systemtap module.
-C WHEN         Enable colored errors. WHEN must be either 'auto',
                'never', or 'always'. Set to 'auto' by default.
-d              Delete a module.  Only detached or unused modules
                the user has permission to access will be deleted. Use "*"
                (quoted) to delete all unused modules.
-R              Have staprun create a new name for the module before
                inserting it. This allows the same module to be inserted
                more than once.
-r N:URI        Pass N:URI data to tapset functions remote_id()/remote_uri().
-D              Run in background. This requires '-o' option.
-S size[,N]     Switches output file to next file when the size
                of file reaches the specified size. The value
                should be an integer greater than 1 which is
                assumed to be the maximum file size in MB.
                When the number of output files reaches N, it
                switches to the first output file. You can omit
                the second argument.
-T timeout      Specifies upper limit on amount of time reader thread
                will wait for new full trace buffer. Value should be an
                integer >= 1, which is timeout value in ms. Default 200ms.
-F fd           Specifies file descriptor for module relay directory

MODULE can be either a module name or a module path.  If a
module name is used, it is searched in the following directory:
/lib/modules/${release}/systemtap
`;
}
