// Types of tracefs.mjs (plain JavaScript so that the lab, run by plain `node`, can load it).

/** Where bpftrace expects tracefs. */
export declare const TRACEFS: string
/** Registers this process as a tracefs user and mounts tracefs if it is missing. */
export declare function acquireTracefs(): { mounted: boolean; users: number }
/** Unregisters this process; the last user unmounts what one of us mounted (never under bpftrace). */
export declare function releaseTracefs(): { users: number; unmounted: boolean }
/** Whether tracefs is mounted at /sys/kernel/tracing. */
export declare function tracefsMounted(): boolean
