#!/bin/sh
# A device's service login for the test's telnet server (inetutils telnetd --exec-login):
# asks for a user and a password like /bin/login, accepts any, runs one command.
printf 'PACS service console\r\nlogin: '
read -r user
printf 'Password: '
stty -echo 2>/dev/null
read -r pass
stty echo 2>/dev/null
printf '\r\nWelcome %s\r\n$ ' "$user"
read -r cmd
printf 'bye\r\n'
