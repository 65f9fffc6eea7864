-- name: changes.lease
-- Marks installs as watched by this process until now() + $2 seconds (changes.notify then
-- wakes their watchers), extending an earlier lease, never shortening one. Run when a
-- stream opens, before its first read, and again by the watch poll while streams stay open.
-- Keyed by install_id alone: a hint for the notifications, not an install's data.
-- returns: nothing
-- $1 install_ids (text[]), $2 lease seconds
insert into ext_storage_watched as w (install_id, watched_until)
select i, now() + make_interval(secs => $2) from unnest($1::text[]) as i
on conflict (install_id) do update set watched_until = greatest(w.watched_until, excluded.watched_until)
