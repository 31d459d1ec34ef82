/**
 * A real S3 server for the fleet tests: Ceph's RADOS Gateway (radosgw) over one monitor and one OSD whose
 * objects live in memory (memstore), all on 127.0.0.1, all files under one temporary directory, no
 * authentication between the Ceph daemons, S3 users with keys made up per gateway. It comes up in a few seconds.
 * {@linkcode Gateway.stop} (in a test's `finally`) stops it: radosgw first (it hangs on exit once the monitor is
 * gone), the OSD with SIGKILL (on SIGTERM memstore writes every object to disk, which a test does not need), the
 * monitor last; anything still running after 5 s is killed. When the test process itself ends without
 * stopping it (Ctrl-C of the test run, a kill), a watchdog started with the gateway kills every daemon of it
 * within a second (each checked by its command line, which names the gateway's own directory) and removes the
 * directory.
 *
 * Where Ceph is not installed (`ceph-mon`, `ceph-osd`, `radosgw`, `ceph-common`), {@linkcode gatewayMissing}
 * says so and the tests skip with that reason; `.ci/run` installs them.
 * @module
 */
import { S3Client } from "@aws-sdk/client-s3";

const TOOLS = ["ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool"];
/** Ceph's OSDs take ports from 6800 to 7300 for themselves: the gateway and the monitor stay out of them. */
const CEPH_RANGE = [6800, 7300];

/** Why the gateway cannot run here, or undefined when it can. */
export async function gatewayMissing(): Promise<string | undefined> {
  for (const tool of TOOLS) {
    const found = await new Deno.Command("sh", {
      args: ["-c", 'command -v "$1"', "sh", tool],
      stdout: "null",
    })
      .output();
    if (!found.success) return `${tool} is not installed (Debian: ceph-mon ceph-osd radosgw ceph-common)`;
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 outside Ceph's OSD range. */
export function freePort(): number {
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (port < CEPH_RANGE[0] || port > CEPH_RANGE[1]) return port;
  }
}

function randomKey(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Options of a gateway. */
export interface GatewayOptions {
  /** The OSD's capacity: writes past it hang (as a full Ceph cluster's do). Default 1 GiB. */
  storeBytes?: number;
  /** The gateway's port (default: a free one). */
  port?: number;
}

/** A running gateway and what a test needs of it. */
export class Gateway {
  /** Its directory (configuration, monitor and OSD data, logs). */
  readonly dir: string;
  /** The S3 endpoint, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** The gateway's port. */
  readonly port: number;
  /** An S3 user's access key ID. */
  readonly accessKey = `AK${randomKey(18)}`;
  /** That user's secret key. */
  readonly secretKey = randomKey(40);
  readonly #conf: string;
  #mon?: Deno.ChildProcess;
  #osd?: Deno.ChildProcess;
  #rgw?: Deno.ChildProcess;
  #watchdog?: Deno.ChildProcess;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.#conf = `${dir}/ceph.conf`;
  }

  /** The environment that gives stapfr (and the SDK) this gateway and its user's credentials. */
  env(): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: this.accessKey,
      AWS_SECRET_ACCESS_KEY: this.secretKey,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: this.endpoint,
      // No instance metadata service here: the credential chain must not wait for one.
      AWS_EC2_METADATA_DISABLED: "true",
    };
  }

  /** An S3 client for the test's own checks (path-style, no checksum trailers: RGW 16.2 refuses them). */
  client(options: { secretKey?: string } = {}): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKey, secretAccessKey: options.secretKey ?? this.secretKey },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /** Starts one: monitor, OSD, gateway, an S3 user. Whatever fails on the way stops what it started. */
  static async start(options: GatewayOptions = {}): Promise<Gateway> {
    const dir = await Deno.makeTempDir({ prefix: "stapfr-rgw-" });
    const gw = new Gateway(dir, options.port ?? freePort());
    gw.#watchdog = watchdog(dir);
    try {
      await gw.#bringUp(options.storeBytes ?? 1 << 30);
      return gw;
    } catch (err) {
      await gw.stop();
      throw err;
    }
  }

  async #bringUp(storeBytes: number): Promise<void> {
    const dir = this.dir;
    const monPort = freePort();
    const fsid = crypto.randomUUID();
    for (const d of ["mon/a", "osd/0", "rgw", "log", "run", "crash"]) {
      await Deno.mkdir(`${dir}/${d}`, { recursive: true });
    }
    await Deno.writeTextFile(
      this.#conf,
      `[global]
fsid = ${fsid}
mon_host = v2:127.0.0.1:${monPort}
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = /dev/null
mon_warn_on_insecure_global_id_reclaim_allowed = false
# radosgw's own default (secure) needs cephx; without authentication it never reaches the monitor.
ms_mon_client_mode = crc
# Every pool the gateway creates costs two map commits: 0.1 s instead of 1 s each.
paxos_propose_interval = 0.1
run_dir = ${dir}/run
crash_dir = ${dir}/crash
log_file = ${dir}/log/$name.log
admin_socket = ${dir}/run/$name.asok
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
mon_data = ${dir}/mon/$id
mon_cluster_log_file = ${dir}/log/cluster.log
[osd]
osd_data = ${dir}/osd/$id
osd_objectstore = memstore
memstore_device_bytes = ${storeBytes}
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 2
[client]
rgw_data = ${dir}/rgw
rgw_frontends = beast endpoint=127.0.0.1:${this.port}
rgw_thread_pool_size = 64
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
`,
    );
    await run("monmaptool", [
      "--create",
      "--fsid",
      fsid,
      "--addv",
      "a",
      `[v2:127.0.0.1:${monPort}]`,
      `${dir}/run/monmap`,
    ]);
    await run("ceph-mon", ["-c", this.#conf, "-i", "a", "--mkfs", "--monmap", `${dir}/run/monmap`]);
    this.#mon = await this.#daemon("ceph-mon", ["-c", this.#conf, "-i", "a", "-f"]);
    await run("ceph", ["-c", this.#conf, "--connect-timeout", "20", "mon", "stat"]);
    const osdUuid = crypto.randomUUID();
    const id = (await run("ceph", ["-c", this.#conf, "osd", "new", osdUuid])).trim();
    if (id !== "0") throw new Error(`ceph osd new gave "${id}", not 0`);
    await run("ceph-osd", ["-c", this.#conf, "-i", "0", "--mkfs", "--osd-uuid", osdUuid]);
    this.#osd = await this.#daemon("ceph-osd", ["-c", this.#conf, "-i", "0", "-f"]);
    await this.#until("the OSD to be up", async () => {
      const dump = await run("ceph", ["-c", this.#conf, "osd", "dump", "--format", "json"]);
      return /"up":1/.test(dump);
    });
    await this.startGateway();
    await run("radosgw-admin", [
      "-c",
      this.#conf,
      "user",
      "create",
      "--uid=test",
      "--display-name=test",
      `--access-key=${this.accessKey}`,
      `--secret-key=${this.secretKey}`,
    ]);
  }

  /** Starts radosgw (again, after {@linkcode killGateway}) and waits until it answers. */
  async startGateway(): Promise<void> {
    if (this.#rgw) throw new Error("radosgw is already running");
    this.#rgw = await this.#daemon("radosgw", ["-c", this.#conf, "-n", "client.rgw.a", "-f"]);
    await this.#until("radosgw to answer", async () => {
      try {
        const r = await fetch(`${this.endpoint}/`);
        await r.body?.cancel();
        return r.ok;
      } catch {
        return false;
      }
    });
  }

  /** Runs `radosgw-admin ARGS…` on this gateway's cluster (`gc process --include-all` frees deleted data now). */
  async admin(...args: string[]): Promise<string> {
    return await run("radosgw-admin", ["-c", this.#conf, ...args]);
  }

  /** Starts a daemon and writes its pid where the watchdog finds it. */
  async #daemon(cmd: string, args: string[]): Promise<Deno.ChildProcess> {
    const child = daemon(cmd, args);
    await Deno.writeTextFile(`${this.dir}/run/${cmd}.pid`, `${child.pid}\n`);
    return child;
  }

  /** Kills radosgw (SIGKILL), as a crash would; the monitor and the OSD, and so the stored objects, remain. */
  async killGateway(): Promise<void> {
    const rgw = this.#rgw;
    this.#rgw = undefined;
    if (!rgw) return;
    kill(rgw, "SIGKILL");
    await rgw.status;
  }

  async #until(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await cond())) {
      for (
        const [name, child] of [["ceph-mon", this.#mon], ["ceph-osd", this.#osd], [
          "radosgw",
          this.#rgw,
        ]] as const
      ) {
        const code = child ? exitCodes.get(child) : undefined;
        if (code !== undefined) {
          throw new Error(`${name} exited (${code}) while waiting for ${what}${await this.#logTail()}`);
        }
      }
      if (Date.now() > end) throw new Error(`Timed out waiting for ${what}${await this.#logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The last lines of each daemon's log, for an error message. */
  async #logTail(): Promise<string> {
    let text = "";
    for (const name of ["mon.a", "osd.0", "client.rgw.a"]) {
      const log = await Deno.readTextFile(`${this.dir}/log/${name}.log`).catch(() => "");
      if (log) text += `\n--- ${name}.log\n${log.trimEnd().split("\n").slice(-8).join("\n")}`;
    }
    return text;
  }

  /** Stops every daemon (radosgw, then the OSD, then the monitor) and removes the directory. */
  async stop(): Promise<void> {
    try {
      if (this.#rgw) await stopChild(this.#rgw, "SIGTERM");
      if (this.#osd) await stopChild(this.#osd, "SIGKILL");
      if (this.#mon) await stopChild(this.#mon, "SIGTERM");
    } finally {
      this.#rgw = this.#osd = this.#mon = undefined;
      if (this.#watchdog) await stopChild(this.#watchdog, "SIGKILL");
      this.#watchdog = undefined;
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

/**
 * A shell that waits for this process to end and then kills the gateway's daemons (by the pids in its run
 * directory, each only if its command line still names the gateway's directory) and removes the directory. It
 * is killed itself by an orderly stop.
 */
function watchdog(dir: string): Deno.ChildProcess {
  const script = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
for f in "$2"/run/*.pid; do
  [ -f "$f" ] || continue
  p=$(cat "$f")
  case "$(tr '\\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" in *"$2/"*) kill -9 "$p" ;; esac
done
sleep 1
rm -rf "$2"
`;
  return new Deno.Command("sh", {
    args: ["-c", script, "sh", String(Deno.pid), dir],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Runs `fn` with a gateway started for it, and stops the gateway whatever happens. */
export async function withGateway(
  fn: (gw: Gateway) => Promise<void>,
  options: GatewayOptions = {},
): Promise<void> {
  const gw = await Gateway.start(options);
  try {
    await fn(gw);
  } finally {
    await gw.stop();
  }
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${out.code}: ${dec.decode(out.stderr).trim().slice(-800)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** The exit codes of daemons that have exited. */
const exitCodes = new WeakMap<Deno.ChildProcess, number>();

function daemon(cmd: string, args: string[]): Deno.ChildProcess {
  // Each daemon logs to its file under the gateway's directory (log_file); nothing is read from its pipes.
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" }).spawn();
  void child.status.then((s) => exitCodes.set(child, s.code));
  return child;
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // It has exited.
  }
}

/** Sends `signal`, then SIGKILL if the daemon is still there after 5 s; waits for its exit. */
async function stopChild(child: Deno.ChildProcess, signal: Deno.Signal): Promise<void> {
  kill(child, signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 5000)));
  const outcome = await Promise.race([child.status, late]);
  clearTimeout(timer);
  if (outcome === "late") {
    kill(child, "SIGKILL");
    await child.status;
  }
}
