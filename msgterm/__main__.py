from msgterm.cli import main

main()
