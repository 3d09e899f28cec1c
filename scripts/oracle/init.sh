#!/bin/busybox sh
# The oracle's guest (/init of its initramfs; scripts/oracle.mjs builds it). Memory is kept full of page cache by
# `cat` of a sparse 2000 MB file on an ext2 virtio disk; then, for each mode of fl_modes in turn: flstorm.ko mode=M
# (for mode u, flstorm.ko mode=0 with the userspace storm ustorm), /proc/vmstat, PSI and the reader's CPU at the
# start and the end of fl_secs, rmmod, and the module's FLK lines. Everything goes to the serial console between
# =====FL_BEGIN name / =====FL_END name lines; scripts/lib/oracle-log.mjs reads them. The reader and kswapd are bound
# to CPU 0, where the model runs them. What runs between the module's start and its end uses shell builtins only,
# so that no process but the workload's allocates or reclaims.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /mnt
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
up() { read -r u _ < /proc/uptime; echo "$u"; }
sec() { echo "=====FL_BEGIN $1"; while read -r l; do echo "$l"; done < "$2"; echo "=====FL_END $1"; }
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
MODES=$(arg fl_modes | tr , ' '); SECS=$(arg fl_secs); WARM=$(arg fl_warm); SETTLE=$(arg fl_settle)
KARGS=$(arg fl_kargs | tr , ' '); UPER=$(arg fl_uper); UCYCLE=$(arg fl_ucycle)
# The vm sysctls the boot line set (sysctl.vm.NAME=V), as the guest reads them back.
SYSCTLS=; for n in $(arg fl_sysctls | tr , ' '); do read -r v < /proc/sys/vm/$n; SYSCTLS="$SYSCTLS vm.$n=$v"; done
echo "=====FL_INIT uptime=$(up)"
for m in /lib/fl/*.ko; do insmod $m; done
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mount -t ext2 -o ro /dev/vda /mnt || echo "=====FL_ERROR mount"
echo "=====FL_PARAMS modes=$MODES secs=$SECS warm=$WARM settle=$SETTLE kargs=$KARGS uper=$UPER ucycle=$UCYCLE" \
  "nproc=$(nproc) kernel=$(uname -r)$SYSCTLS"
taskset -p 1 $(pidof kswapd0) > /dev/null || echo "=====FL_ERROR taskset kswapd0"
(while :; do taskset 1 cat /mnt/big > /dev/null; done) &
RPID=$!
# The reader's CPU in clock ticks (USER_HZ, 100 on x86): its finished cats' (the loop's cutime and cstime) and the
# running one's, read with builtins.
rcpu() {
  read -r l < /proc/$RPID/stat; set -- $l; t=$((${16} + ${17}))
  for s in /proc/[0-9]*/stat; do
    read -r l < $s 2>/dev/null || continue; set -- $l
    [ "$4" = "$RPID" ] && t=$((t + ${14} + ${15}))
  done
  echo $t
}
sleep $WARM
echo "=====FL_WARM uptime=$(up) $(grep -E '^(MemFree|Cached):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
n=0
for m in $MODES; do
  n=$((n+1)); tag="run$n.mode$m"
  [ $n -gt 1 ] && sleep $SETTLE   # the reader fills again what the last run's storm freed
  if [ "$m" = u ]; then insmod /lib/flstorm.ko mode=0 $KARGS || echo "=====FL_ERROR insmod"
  else insmod /lib/flstorm.ko mode=$m $KARGS || echo "=====FL_ERROR insmod"; fi
  sec "$tag.vmstat_before" /proc/vmstat; sec "$tag.psi_before" /proc/pressure/memory
  echo "=====FL_RUN $tag start uptime=$(up) reader_ticks=$(rcpu) clk_tck=100"
  if [ "$m" = u ]; then /lib/ustorm $UPER $UCYCLE $SECS; else sleep $SECS; fi
  echo "=====FL_RUN $tag stop uptime=$(up) reader_ticks=$(rcpu)"
  sec "$tag.vmstat_after" /proc/vmstat; sec "$tag.psi_after" /proc/pressure/memory
  rmmod flstorm
  echo "=====FL_BEGIN $tag.flk"
  dmesg | grep -E 'FLK|Out of memory|page allocation failure' | tail -12
  echo "FLK kills=$(dmesg | grep -c 'Killed process')"
  echo "=====FL_END $tag.flk"
  dmesg -c > /dev/null
done
echo "=====FL_DONE uptime=$(up)"
poweroff -f
